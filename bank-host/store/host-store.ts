// The storage boundary: what the host's code reads and writes through, whichever backend keeps the state.
// Two backends implement it: LevelDB (`Database`, the group committer and in-process keyed locks: one host
// process per database) and PostgreSQL (`PostgresStore` with units of work holding advisory locks: several
// host processes on one cluster). Domain code sees only these interfaces; host-store.ts at the host layer
// opens one or the other from host.json's `store` setting.
/** One operation of an atomic batch. `valueEncoding: 'buffer'` stores a Buffer as raw bytes instead of JSON
 *  (audit records). */
export type BatchOp =
  | { readonly type: 'put'; readonly key: string; readonly value: unknown; readonly valueEncoding?: 'buffer' }
  | { readonly type: 'del'; readonly key: string };

/** A state change: its batch operations, and events (the host's audit events) that become operations of the
 *  same atomic write. */
export interface Change<E> {
  readonly ops: readonly BatchOp[];
  readonly events?: readonly E[];
  /** Commit only if the record at `guard.key` still holds what it must (see CommitGuard). */
  readonly guard?: CommitGuard;
}

/** A condition a change commits under, on a store shared by several hosts: the JSON record at `key`, locked
 *  as the change commits (in the commit's own message on PostgreSQL, so it costs no round trip), must hold
 *  every field of `holds` with that value; otherwise nothing of the change is written and the commit fails
 *  with a CommitGuardError. LevelDB's committer (one process per store) refuses a guard: there the process's
 *  memory is the truth and needs no check against the store. */
export interface CommitGuard {
  readonly key: string;
  readonly holds: Readonly<Record<string, string | number | boolean>>;
}

/** Whether a record read in hand holds what `guard` asks (the store's check, on a value already read). */
export function guardHolds(record: unknown, guard: CommitGuard): boolean {
  if (record === null || typeof record !== 'object') return false;
  return Object.entries(guard.holds).every(([name, value]) => (record as Record<string, unknown>)[name] === value);
}

/** A guarded change was not committed: its guard's record no longer held what it must. Nothing was
 *  written. */
export class CommitGuardError extends Error {
  constructor(readonly key: string) {
    super(`the record ${key} no longer holds what the change was committed under; nothing was applied`);
    this.name = 'CommitGuardError';
  }
}


export interface GroupCommitStats {
  batches: number;
  changes: number;
  maxChangesInBatch: number;
}


export interface EntriesOptions {
  readonly reverse?: boolean;
  readonly limit?: number;
  readonly gte?: string;
  readonly lte?: string;
}

/** The key-value store on either backend: JSON values by key and by range in LevelDB's key order, and
 *  raw-bytes values (audit records) the same way. Inside a unit of work (PostgreSQL) reads go through the
 *  unit's connection, so they see what the unit's locks protect. State changes go through the committer;
 *  `writeDurably` (a batch outside locks and the audit log) is for store-format migrations and tests. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  getMany<T>(keys: readonly string[]): Promise<(T | undefined)[]>;
  entries<T>(prefix: string, options?: EntriesOptions): AsyncGenerator<[string, T]>;
  /** Values stored as raw bytes (`valueEncoding: 'buffer'`), by key; undefined where there is none. */
  getBuffers(keys: readonly string[]): Promise<(Buffer | undefined)[]>;
  /** `entries` for values stored as raw bytes. */
  bufferEntries(prefix: string, options?: EntriesOptions): AsyncGenerator<[string, Buffer]>;
  /** Writes the batch atomically and durably, with no lock and no audit record. */
  writeDurably(ops: readonly BatchOp[]): Promise<void>;
  /** Lets the backend drop deleted values from its files (LevelDB compacts; PostgreSQL's vacuum does it). */
  compactAll(): Promise<void>;
  /** Runs `work` with every read in it from one snapshot, where the backend needs asking for one
   *  (PostgreSQL; LevelDB's readers take their own snapshots). */
  readSnapshot?<T>(work: () => Promise<T>): Promise<T>;
}

/** Serializes work on the same keys. On LevelDB, in-process keyed locks (the one process owns the
 *  database); on PostgreSQL, a unit of work holding transaction-scoped advisory locks, so work of every host
 *  on the cluster naming a key queues behind each other, and the reads and the one commit inside `work`
 *  run in that unit's transaction. */
export interface StoreLocks {
  withLocks<T>(keys: readonly string[], work: () => Promise<T>): Promise<T>;
}

/** Writes a change (its operations and the records its events become) atomically and durably: resolves
 *  once it is on disk (LevelDB, synced) or committed on the primary and its synchronous standby. */
export interface StoreCommitter<E> {
  commit(change: Change<E>): Promise<void>;
  readonly stats: GroupCommitStats;
  /** Calls `listener` with the events of every change once it is durable (tests observe the audit log so). */
  observe(listener: (events: readonly E[]) => void): void;
  close(): Promise<void>;
}

/** One request's work, run so that copies of it take turns on every host: on PostgreSQL a unit of work
 *  holding `key`'s lock (the idempotency record is read inside it, so a copy that waited finds the first
 *  copy's answer); on LevelDB `work` as it is (the dispatcher's in-flight map does the same in the one
 *  process). */
export interface RequestScope {
  /** `readKeys` are read with the unit's BEGIN, without a lock (the request's device record, which the
   *  dispatcher checks first): reads of them in `work` are answered without asking the store again.
   *  `lockKeys` are locked with the BEGIN too (with `key`, in the one global order) and read under their
   *  locks: `withLocks` of them in `work` finds them held. `alone`: work that runs long inside its unit (a
   *  password's scrypt) never joins the group commit of other requests, which would wait for it. */
  run<T>(key: string, work: () => Promise<T>, readKeys?: readonly string[], lockKeys?: readonly string[], options?: RequestScopeOptions): Promise<T>;
}

export interface RequestScopeOptions {
  readonly alone?: boolean;
  /** The key of the record the request's change commits under (its CommitGuard's: the device's record).
   *  Locked shared with the BEGIN, after the request's other locks (so never held while it waits for
   *  them), and read there: the commit then checks what was read instead of reading it again in its
   *  message. The record's writers lock it exclusively, so a revocation waits for the requests of the
   *  device that are running (not for ones still waiting for their locks) and every later one sees it. */
  readonly guardKey?: string;
}

export type StoreBackend = 'leveldb' | 'postgresql';

/** The store a host opened: the backend's reader, locks, committer and request scope. */
export interface HostStore<E> {
  readonly backend: StoreBackend;
  readonly db: KeyValueStore;
  readonly locks: StoreLocks;
  readonly committer: StoreCommitter<E>;
  readonly requests: RequestScope;
  close(): Promise<void>;
}

/** The request scope of a backend with one process per store: the work as it is. */
export const IN_PROCESS_REQUESTS: RequestScope = { run: (_key, work) => work() };

