// A unit of work: one request's transaction on one lane. It begins by taking transaction-scoped advisory
// locks on its lock keys (hashed to 64 bits, in one global order, so units of work of every host that need
// overlapping keys queue behind each other and never deadlock), reads through its own connection, and ends
// with one commit that writes its batch; PostgreSQL releases the locks with the commit or the rollback.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { BatchOp } from '../database.js';
import { CommitGuardError, guardHolds, type CommitGuard } from '../host-store.js';
import { PostgresStoreError, hasSqlState, storeErrorFrom } from './errors.js';
import type { Lane } from './lanes.js';
import { checkKey, decodeValue, encodeBatch } from './rows.js';
import { GUARD_FAILED_SQLSTATE, guardText, lastResult, prefetchText, writeText } from './queries.js';
import { NUMBERS_SEQUENCE } from './schema.js';

/** The savepoint a unit that joins a group's open transaction begins with (commit-group.ts): released
 *  when it stages its writes, rolled back to when it fails. */
export const MEMBER_SAVEPOINT = 'unit';

/** A unit joining a group's transaction found one of its locks held (by another transaction): its group
 *  commits and it begins again on its own (commit-group.ts). */
export class LockNotFree extends Error {
  constructor() {
    super('a lock of the unit is held by another transaction');
  }
}

/** Numbers one `numbers` call draws. */
export const NUMBERS_PER_CALL_MAX = 10_000;

/** A lock key that is also a key the store could hold (lock keys are mostly the keys of what they guard). */
export function isStorableKey(key: string): boolean {
  try {
    checkKey(key);
    return true;
  } catch {
    return false;
  }
}

/** Keys a unit of work may read with its BEGIN. */
export const PREFETCH_KEYS_MAX = 64;
/** Lock keys one unit of work may take: the host's requests take a handful. */
export const LOCKS_PER_UNIT_MAX = 64;

/** Keys a unit of work locks: exclusive ones (the default) serialize every unit of work naming the key; a
 *  shared one admits other shared holders and waits only for exclusive ones. A key named both ways is
 *  locked exclusively. `sharedLast`: shared locks taken after all the others, outside the global order, so
 *  a unit never holds them while it waits for its other locks. Only for keys whose exclusive holders take
 *  no other lock a unit of work waits for (a device's record: only the registry locks it exclusively, with
 *  nothing else but its lane), so no cycle can form through them. */
export type LockRequest =
  | readonly string[]
  | { readonly exclusive: readonly string[]; readonly shared?: readonly string[]; readonly sharedLast?: readonly string[] };

/** A lock key's advisory lock id: the first 64 bits of a SHA-256 of the key. Two keys that collide only
 *  serialize units of work that need not be; never the reverse. */
export function lockId(key: string): bigint {
  let id = lockIds.get(key);
  if (id === undefined) {
    id = createHash('sha256').update('atm-kv-lock\u0000').update(key, 'utf8').digest().readBigInt64BE(0);
    if (lockIds.size >= LOCK_ID_CACHE_MAX) lockIds.clear();
    lockIds.set(key, id);
  }
  return id;
}

/** Lock ids remembered (the same accounts are locked again and again); past the bound the memory starts
 *  afresh. */
const LOCK_ID_CACHE_MAX = 100_000;
const lockIds = new Map<string, bigint>();

/** A lock request's keys, each way. */
export function lockKeys(request: LockRequest): { exclusive: readonly string[]; shared: readonly string[]; sharedLast: readonly string[] } & Iterable<string> {
  const exclusive = Array.isArray(request) ? (request as readonly string[]) : (request as { exclusive: readonly string[] }).exclusive;
  const shared = Array.isArray(request) ? [] : ((request as { shared?: readonly string[] }).shared ?? []);
  const sharedLast = Array.isArray(request) ? [] : ((request as { sharedLast?: readonly string[] }).sharedLast ?? []);
  return { exclusive, shared, sharedLast, [Symbol.iterator]: () => [...exclusive, ...shared, ...sharedLast][Symbol.iterator]() };
}

/** The one statement that takes a unit's locks, in ascending id order (then the `sharedLast` ones);
 *  undefined when there are none.
 *  PostgreSQL evaluates a select list from left to right, so the locks are taken in that order. With
 *  `ifFree`, a unit joining a group's transaction: each lock is taken only if it is free now, and the one
 *  column `free` says whether all were (a lock taken before one that was not is released with the unit's
 *  savepoint). */
export function lockStatement(request: LockRequest, ifFree = false): string | undefined {
  const { exclusive, shared, sharedLast } = lockKeys(request);
  const modes = new Map<bigint, 'shared' | 'exclusive'>();
  for (const key of shared) modes.set(lockId(key), 'shared');
  for (const key of exclusive) modes.set(lockId(key), 'exclusive');
  // Taken last, in their own order; a key also named above is taken there, as named there.
  const last = [...new Set(sharedLast.map(lockId))].filter((id) => !modes.has(id));
  if (modes.size + last.length > LOCKS_PER_UNIT_MAX) throw new RangeError(`a unit of work takes at most ${LOCKS_PER_UNIT_MAX} locks, got ${modes.size + last.length}`);
  if (modes.size + last.length === 0) return undefined;
  const call = (id: bigint, mode: 'shared' | 'exclusive') => `pg_${ifFree ? 'try_' : ''}advisory_xact_lock${mode === 'shared' ? '_shared' : ''}(${id.toString()})`;
  const calls = [...modes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    // The ids are numbers we made, not input: safe to write into the statement.
    .map(([id, mode]) => call(id, mode))
    .concat(last.map((id) => call(id, 'shared')));
  return ifFree ? `SELECT ${calls.join(' AND ')} AS free` : `SELECT ${calls.join(', ')}`;
}

/** Numbers a unit may draw with its BEGIN. */
export const RESERVED_NUMBERS_MAX = 16;

/** The statement that draws `count` numbers from the store's sequence. */
function numbersText(count: number): string {
  // Count is a checked integer: safe to write into the statement.
  return `SELECT nextval('${NUMBERS_SEQUENCE}')::text AS n FROM generate_series(1, ${count})`;
}

/** BEGIN, the lock statement, the prefetched keys' read and the reserved numbers' draw, as one
 *  simple-protocol message (one write on each side, one answer), so starting a unit costs one round trip;
 *  PostgreSQL runs the statements in order, so it reads the keys and draws the numbers once the locks are
 *  held. Made (and checked) before a lane is taken. */
export interface OpeningStatement {
  readonly text: string;
  readonly prefetch: readonly string[];
  /** Every key the opening locks (either way). */
  readonly locked: readonly string[];
  /** The keys of those it locks exclusively. */
  readonly exclusive: readonly string[];
  readonly reserve: number;
  /** Opens a unit in a group's open transaction (commit-group.ts): a savepoint, and locks only if free. */
  readonly joins: boolean;
  /** Whether the lock statement is its second (its answer says whether the locks were free). */
  readonly locks: boolean;
}

export function openingStatement(locks: LockRequest, prefetch: readonly string[] = [], reserve = 0, joins = false): OpeningStatement {
  if (prefetch.length > PREFETCH_KEYS_MAX) throw new RangeError(`a unit of work prefetches at most ${PREFETCH_KEYS_MAX} keys, got ${prefetch.length}`);
  if (!Number.isSafeInteger(reserve) || reserve < 0 || reserve > RESERVED_NUMBERS_MAX) throw new RangeError(`a unit of work reserves 0 to ${RESERVED_NUMBERS_MAX} numbers, got ${reserve}`);
  for (const key of prefetch) checkKey(key);
  const statements = [joins ? `SAVEPOINT ${MEMBER_SAVEPOINT}` : 'BEGIN'];
  const lock = lockStatement(locks, joins);
  if (lock !== undefined) statements.push(lock);
  if (prefetch.length > 0) statements.push(prefetchText(prefetch));
  if (reserve > 0) statements.push(numbersText(reserve));
  const keys = lockKeys(locks);
  return { text: statements.join('; '), prefetch, locked: [...keys], exclusive: keys.exclusive, reserve, joins, locks: lock !== undefined };
}

/** The numbers a numbers statement drew, increasing. */
function drawn(result: pg.QueryResult): number[] {
  return (result.rows as { n: string }[]).map((row) => Number(row.n)).sort((a, b) => a - b);
}

/** `staged`: its writes are in its lane's open transaction, waiting for its group's COMMIT. */
export type UnitState = 'open' | 'staged' | 'committed' | 'rolled-back' | 'failed';

export class UnitOfWork {
  state: UnitState = 'open';
  /** The unit's lane went back to the pool (its work returned); reads must no longer use its connection. */
  released = false;
  /** The connection cannot be trusted after this unit (a failure left it in an unknown state). */
  broken = false;
  /** Lock statements sent after the BEGIN (locks its opening did not take). */
  lockSteps = 0;
  /** Its lane went on to another unit while this one waits for their group's COMMIT. */
  handedOn = false;
  /** A message of this unit held a COMMIT whose answer was lost with the connection. */
  commitInDoubt = false;

  constructor(
    readonly lane: Lane,
    /** The lane's connection, in a transaction while the unit is open. */
    readonly client: pg.Client,
    /** Began in a group's open transaction, under a savepoint (commit-group.ts). */
    readonly joined = false,
  ) {}

  /** The lane this unit runs on: `<hostId>/<index>`. One lane runs one transaction at a time, so a chain
   *  kept per lane (the audit log's) is written in sequence without a lock shared with other lanes. */
  get laneId(): string {
    return this.lane.id;
  }

  /** Sends the unit's opening message (see openingStatement) and waits until PostgreSQL has run it: the
   *  transaction begun, the locks held, the prefetched keys read. */
  async begin(opening: OpeningStatement): Promise<void> {
    const prefetch = opening.prefetch;
    let results: pg.QueryResult | pg.QueryResult[];
    try {
      results = (await this.client.query(opening.text)) as unknown as pg.QueryResult | pg.QueryResult[];
    } catch (error) {
      this.state = 'failed';
      throw storeErrorFrom(error, 'statement', `starting a unit of work on ${this.lane.id}`);
    }
    const answers = Array.isArray(results) ? results : [results];
    if (opening.joins && opening.locks && (answers[1]?.rows[0] as { free?: boolean } | undefined)?.free !== true) throw new LockNotFree();
    for (const key of opening.locked) this.lockedKeys.add(key);
    for (const key of opening.exclusive) this.exclusiveKeys.add(key);
    if (opening.reserve > 0) this.reserved = drawn(answers[answers.length - 1]!);
    if (prefetch.length > 0) this.takeIn(prefetch, answers[answers.length - (opening.reserve > 0 ? 2 : 1)]!);
  }

  /** Keys this unit holds a lock on (either way). */
  private readonly lockedKeys = new Set<string>();
  /** The keys of those it holds exclusively. */
  private readonly exclusiveKeys = new Set<string>();
  /** Numbers drawn with the BEGIN and not yet handed out, increasing. */
  private reserved: number[] = [];

  /** Remembers what a prefetch read: each key's value, undefined for an absent one. */
  private takeIn(keys: readonly string[], result: pg.QueryResult): void {
    const rows = result.rows as { k: string; v: Buffer; json: boolean }[];
    for (const key of keys) this.known.set(key, undefined);
    for (const row of rows) {
      const value = decodeValue<unknown>(row.v, row.json);
      // Frozen, as the LevelDB database's cached values are: work that changed a record in place instead of
      // writing a new one would otherwise see its own change on the next read.
      this.known.set(row.k, value !== null && typeof value === 'object' ? Object.freeze(value) : value);
    }
  }

  /** What the unit read with its BEGIN, and each key it locked since as read under that lock: the value
   *  (undefined for an absent key). A key read but not locked is read again with each lock the unit takes
   *  (see lock), so what work reads after taking a lock is never older than that lock. */
  readonly known = new Map<string, unknown>();

  /** Writes the batch and commits, as one simple-protocol message (the write statement and COMMIT: one
   *  write on each side, one answer). Resolves only when PostgreSQL has acknowledged the COMMIT, which with
   *  synchronous_commit=on and a synchronous standby means the standby has it too. With a guard, the same
   *  message first takes the guard key's lock and checks its record (guardText): a record that no longer
   *  holds what it must fails the message before the write, and the commit with CommitGuardError; a unit
   *  that holds the guard key's lock and read the record under it checks what it read, sending nothing. In a
   *  group's transaction the COMMIT covers the staged units before this one too (commit-group.ts). */
  commit(ops: readonly BatchOp[], guard?: CommitGuard): Promise<void> {
    return this.send(ops, guard, 'commit');
  }

  /** As commit, but the transaction stays open: the writes wait there for the COMMIT of a unit after this
   *  one on the lane (commit-group.ts). A joined unit's savepoint is released with them. */
  stage(ops: readonly BatchOp[], guard?: CommitGuard): Promise<void> {
    return this.send(ops, guard, 'stage');
  }

  private async send(ops: readonly BatchOp[], guard: CommitGuard | undefined, end: 'commit' | 'stage'): Promise<void> {
    if (this.state !== 'open') throw new PostgresStoreError('STORE_REFUSED', `a unit of work commits once; this one is ${this.state}`);
    const batch = encodeBatch(ops);
    if (this.lane.client !== this.client) {
      // The connection failed or was dropped before anything of the commit was sent.
      this.state = 'failed';
      this.broken = true;
      throw new PostgresStoreError('STORE_UNAVAILABLE', `the connection of ${this.lane.id} was lost before the commit was sent; nothing was applied`);
    }
    if (guard !== undefined && this.lockedKeys.has(guard.key) && this.known.has(guard.key)) {
      // The unit holds the guard's lock and read the record under it (a request's BEGIN took it, last:
      // RequestScopeOptions.guardKey): whoever changes the record takes its lock exclusively, so it is still
      // what was read. Checked here, nothing sent for it.
      if (!guardHolds(this.known.get(guard.key), guard)) {
        this.state = 'failed';
        throw new CommitGuardError(guard.key);
      }
      guard = undefined;
    }
    if (end === 'commit') this.lane.syncWaitCancelled = false;
    const statements: string[] = [];
    if (guard !== undefined) {
      // Shared: what the guard protects (a device's record) is changed under its exclusive lock (a revocation,
      // a rotation), which waits for commits that check it and makes later ones see the change; commits
      // that only check it do not wait for each other (nor, in a group, hold each other up: commit-group.ts).
      if (!this.lockedKeys.has(guard.key)) statements.push(lockStatement({ exclusive: [], shared: [guard.key] })!);
      statements.push(guardText(guard.key, guard.holds));
    }
    const write = writeText(batch);
    if (write !== undefined) statements.push(write);
    if (end === 'commit') statements.push('COMMIT');
    else if (this.joined) statements.push(`RELEASE SAVEPOINT ${MEMBER_SAVEPOINT}`);
    let results: pg.QueryResult | pg.QueryResult[] | undefined;
    try {
      if (statements.length > 0) results = (await this.client.query(statements.join('; '))) as unknown as pg.QueryResult | pg.QueryResult[];
    } catch (error) {
      this.state = 'failed';
      // An error answer means the message's statements stopped there and nothing was applied (the
      // transaction, or a joined unit's savepoint, is aborted and is rolled back next); a lost connection
      // leaves a COMMIT's fate unknown, and anything staged lost.
      if (guard !== undefined && hasSqlState(error) && (error as pg.DatabaseError).code === GUARD_FAILED_SQLSTATE) throw new CommitGuardError(guard.key);
      if (hasSqlState(error)) throw storeErrorFrom(error, 'statement', `writing the batch of ${this.lane.id}`);
      this.broken = true;
      if (end === 'stage') throw storeErrorFrom(error, 'statement', `staging the batch of ${this.lane.id}`);
      this.commitInDoubt = true;
      throw storeErrorFrom(error, 'commit', `committing on ${this.lane.id}`);
    }
    if (end === 'stage') {
      this.state = 'staged';
      return;
    }
    if (lastResult(results!).command !== 'COMMIT') {
      // An earlier statement of this unit failed (and its error was caught by the work): PostgreSQL answered
      // the COMMIT with a rollback.
      this.state = 'rolled-back';
      throw new PostgresStoreError('STORE_REFUSED', `the transaction of ${this.lane.id} had failed before its commit and was rolled back`);
    }
    if (this.lane.syncWaitCancelled) {
      // PostgreSQL stopped waiting for the synchronous standby: the commit is local only and would be lost
      // with the primary. Not acknowledged; the retry (same request id) finds it or applies it.
      this.state = 'failed';
      this.broken = true;
      this.commitInDoubt = true;
      throw new PostgresStoreError('STORE_OUTCOME_UNKNOWN', `the commit on ${this.lane.id} was not confirmed by the synchronous standby`);
    }
    this.state = 'committed';
  }

  /** Takes more locks inside the open unit (after the ones it began with), in ascending id order. Locks
   *  taken in two steps can wait on each other across units; PostgreSQL detects such a deadlock and aborts
   *  one unit (STORE_CONFLICT, retryable). The host's first step is a request's own idempotency key, its
   *  lane's audit head and what its handler named from the request alone (an authorization's account and
   *  daily totals), all in the one global order; its later steps add what the request's records name (a
   *  hold's account), and the commit the device's record, which no unit holds while it waits for accounts. */
  async lock(locks: LockRequest): Promise<void> {
    this.requireOpen('take locks');
    // Keys the unit holds already (its BEGIN took them: a request's lock hint) are not locked again: when it
    // holds every one, nothing new is guarded and what it read under them stands, so no round trip.
    const requested = lockKeys(locks);
    const exclusive = requested.exclusive.filter((key) => !this.exclusiveKeys.has(key));
    // A lock step comes after the opening: "last" adds nothing to shared there.
    const shared = [...requested.shared, ...requested.sharedLast].filter((key) => !this.lockedKeys.has(key));
    const statement = lockStatement({ exclusive, shared });
    if (statement === undefined) return;
    this.lockSteps++;
    // The keys are read in the same message, once their locks are held: work that locks a key reads it
    // next (an account, a hold), and under its lock no other unit can change it before this one commits.
    // A key the unit read before (with its BEGIN, unlocked) is read again: what counts is its value now. So
    // is every other key it knows without holding its lock: the new lock may be what guards it, and work
    // reading it after the lock must see what a read after the lock would.
    const newlyLocked = [...new Set([...exclusive, ...shared])];
    const unlockedKnown = [...this.known.keys()].filter((key) => !this.lockedKeys.has(key) && !newlyLocked.includes(key));
    for (const key of newlyLocked) this.lockedKeys.add(key);
    for (const key of exclusive) this.exclusiveKeys.add(key);
    const keys = [...newlyLocked.filter(isStorableKey), ...unlockedKnown];
    const prefetch = keys.length > 0 && keys.length <= PREFETCH_KEYS_MAX ? keys : [];
    if (prefetch.length === 0) for (const key of unlockedKnown) this.known.delete(key);
    let results: pg.QueryResult | pg.QueryResult[];
    try {
      results = (await this.client.query(prefetch.length > 0 ? `${statement}; ${prefetchText(prefetch)}` : statement)) as unknown as pg.QueryResult | pg.QueryResult[];
    } catch (error) {
      throw this.failedStatement(error, `taking locks on ${this.lane.id}`);
    }
    if (prefetch.length > 0) this.takeIn(prefetch, lastResult(results));
  }

  /** `count` numbers from the store's sequence, increasing (the sequence is shared by every host: two units
   *  never draw the same number; a unit that rolls back leaves a gap). */
  async numbers(count: number): Promise<number[]> {
    this.requireOpen('draw numbers');
    if (!Number.isSafeInteger(count) || count < 1 || count > NUMBERS_PER_CALL_MAX) throw new RangeError(`numbers draws 1 to ${NUMBERS_PER_CALL_MAX}, got ${count}`);
    // The ones drawn with the BEGIN first: drawn earlier, they are below any drawn now.
    const taken = this.reserved.splice(0, count);
    if (taken.length === count) return taken;
    let result: pg.QueryResult;
    try {
      result = await this.client.query(numbersText(count - taken.length));
    } catch (error) {
      throw this.failedStatement(error, `drawing numbers on ${this.lane.id}`);
    }
    return [...taken, ...drawn(result)];
  }

  /** Writes a batch inside the open unit without committing it (a copy larger than one batch, committed at
   *  once by the unit's `commit`: a migration). */
  async write(ops: readonly BatchOp[]): Promise<void> {
    this.requireOpen('write');
    const text = writeText(encodeBatch(ops));
    if (text === undefined) return;
    try {
      await this.client.query(text);
    } catch (error) {
      throw this.failedStatement(error, `writing a batch on ${this.lane.id}`);
    }
  }

  /** Makes the store's sequence draw numbers above `atLeast` from now on (a migration that brought records
   *  numbered up to it). Never lowers it. */
  async raiseNumbers(atLeast: number): Promise<void> {
    this.requireOpen('raise numbers');
    if (!Number.isSafeInteger(atLeast) || atLeast < 1) throw new RangeError(`raiseNumbers takes a positive integer, got ${atLeast}`);
    try {
      await this.client.query(`SELECT setval('${NUMBERS_SEQUENCE}', GREATEST(${atLeast}, (SELECT last_value FROM ${NUMBERS_SEQUENCE})), true)`);
    } catch (error) {
      throw this.failedStatement(error, `raising numbers on ${this.lane.id}`);
    }
  }

  private requireOpen(what: string): void {
    if (this.state !== 'open') throw new PostgresStoreError('STORE_REFUSED', `cannot ${what} in a unit of work that is ${this.state}`);
  }

  private failedStatement(error: unknown, what: string): PostgresStoreError {
    // An error answer aborts the transaction; a lost connection aborts it too (nothing was applied).
    this.state = 'failed';
    if (!hasSqlState(error)) this.broken = true;
    return storeErrorFrom(error, 'statement', what);
  }

  /** Ends a unit that did not commit (read-only, or its work failed); a joined one, its own part. */
  async rollback(): Promise<void> {
    // A unit whose lane went on to the next of its group has nothing of its own left to end there.
    if (this.state === 'committed' || this.state === 'rolled-back' || this.state === 'staged' || this.broken || this.handedOn) return;
    if (this.state === 'open') this.state = 'rolled-back';
    try {
      // A joined unit rolls back its own work only: the units staged before it in the transaction stay.
      await this.client.query(this.joined ? `ROLLBACK TO SAVEPOINT ${MEMBER_SAVEPOINT}; RELEASE SAVEPOINT ${MEMBER_SAVEPOINT}` : 'ROLLBACK');
    } catch {
      // The connection failed: PostgreSQL rolls the transaction back itself when the session ends.
      this.broken = true;
    }
  }
}
