// One bank host's share of the PostgreSQL money load, in its own process (as one host would be): a
// PostgresStore and `clients` loops, each a kiosk doing money transactions one at a time. Driven over IPC by
// bench/postgres.ts. A money transaction is shaped as the host's: a unit of work locking the customer's and
// the kiosk's cash account, reading both with the request's idempotency record and the lane's audit head in
// one statement, then writing two posting legs, both accounts, the idempotency record, one audit record
// (raw bytes, as sealed records are) and the lane's audit head, and committing. The audit record's sealing
// is the host's CPU, not the store's, so its bytes here are random.
import { randomBytes } from 'node:crypto';
import type { BatchOp } from '../bank-host/store/database.js';
import { PostgresStore, PostgresStoreError, type PostgresAddress } from '../bank-host/store/postgres/index.js';

export interface WorkerConfig {
  readonly hostId: string;
  readonly addresses: PostgresAddress[];
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly clients: number;
  readonly poolSize: number;
}

export type WorkerCommand =
  | { type: 'run'; phase: string; untilMs: number; keepSuccesses: boolean }
  /** Moves the end of the run in progress. */
  | { type: 'finish'; atMs: number }
  /** Begins a unit of work holding `key` and never ends it (a host that stops mid-request). */
  | { type: 'hold'; key: string }
  /** Runs units of work on `key` until one succeeds; answers when it did. */
  | { type: 'take'; key: string; boundMs: number }
  | { type: 'stop' };

export interface RunResult {
  transactions: number;
  elapsedMs: number;
  latenciesMs: number[];
  failures: Record<string, number>;
  /** This process's CPU time during the run (user and system), in microseconds. */
  cpuMicros: { user: number; system: number };
  /** With keepSuccesses: each acknowledged transaction's start and end times and idempotency key. */
  successes: [number, number, string][];
}

interface Account {
  balanceCents: number;
  nextSeq: number;
}

interface AuditHead {
  seq: number;
}

const config = JSON.parse(process.env.BENCH_PG_WORKER!) as WorkerConfig;
const store = await PostgresStore.open({ ...config, connectTimeoutMs: 2_000 });
const AMOUNT_CENTS = 2_000;

/** Bytes that stand in for sealed audit records and random ids: drawn once, so the load measures the store
 *  and not the random source (the host's sealing has its own cost, measured by bench/run.ts). */
const RANDOM = randomBytes(1 << 20);
let randomAt = 0;
function pseudoRandom(length: number): Buffer {
  if (randomAt + length > RANDOM.length) randomAt = 0;
  const out = RANDOM.subarray(randomAt, randomAt + length);
  randomAt += length + 7;
  return out;
}
/** Request ids unique within this run: this process's random prefix and a counter. */
const REQUEST_PREFIX = randomBytes(6).toString('hex');
let requestCounter = 0;

const accountKeys = (client: number) => ({ customer: `acct:${config.hostId}-cus-${client}`, cash: `acct:cash-${config.hostId}-kiosk-${client}` });

// Every kiosk's accounts exist before the load starts.
await store.commit(
  Array.from({ length: config.clients }, (_, c) => accountKeys(c)).flatMap(({ customer, cash }) => [
    { type: 'put' as const, key: customer, value: { kind: 'chequing', owner: `cus-${customer}`, balanceCents: 1_000_000_000, heldCents: 0, nextSeq: 1 } },
    { type: 'put' as const, key: cash, value: { kind: 'cash', owner: null, balanceCents: 0, heldCents: 0, nextSeq: 1 } },
  ]),
);

const laneHeads = new Map<string, AuditHead>();

/** One money transaction: a withdrawal of AMOUNT_CENTS from the customer to the kiosk's cash account. */
async function moneyTransaction(client: number, requestId: string): Promise<void> {
  const { customer, cash } = accountKeys(client);
  // Read with the unit's BEGIN and locks, in the same round trip.
  const prefetch = [customer, cash, `idem:${requestId}`];
  await store.unitOfWork([customer, cash], async (unit) => {
    const headKey = `audit:lane:${unit.laneId}:head`;
    const [from, to, repeated] = await store.getMany<unknown>([customer, cash, `idem:${requestId}`]);
    // A lane is the only writer of its audit chain, so its head is kept in memory (as the host will), read
    // once, and read again after a commit whose outcome is not known.
    let head = laneHeads.get(unit.laneId);
    if (head === undefined) {
      head = (await store.get<AuditHead>(headKey)) ?? { seq: 0 };
      laneHeads.set(unit.laneId, head);
    }
    if (repeated !== undefined) return;
    const a = from as Account;
    const b = to as Account;
    const seq = head.seq + 1;
    const now = Date.now();
    const postingId = `pst-${requestId}`;
    const ops: BatchOp[] = [
      { type: 'put', key: `post:${customer}:${String(a.nextSeq).padStart(12, '0')}`, value: { postingId, kind: 'withdrawal', amountCents: -AMOUNT_CENTS, balanceAfterCents: a.balanceCents - AMOUNT_CENTS, atMs: now, deviceId: `kiosk-${client}`, counterpart: cash, requestId } },
      { type: 'put', key: `post:${cash}:${String(b.nextSeq).padStart(12, '0')}`, value: { postingId, kind: 'withdrawal', amountCents: AMOUNT_CENTS, balanceAfterCents: b.balanceCents + AMOUNT_CENTS, atMs: now, deviceId: `kiosk-${client}`, counterpart: customer, requestId } },
      { type: 'put', key: customer, value: { ...a, balanceCents: a.balanceCents - AMOUNT_CENTS, nextSeq: a.nextSeq + 1 } },
      { type: 'put', key: cash, value: { ...b, balanceCents: b.balanceCents + AMOUNT_CENTS, nextSeq: b.nextSeq + 1 } },
      { type: 'put', key: `idem:${requestId}`, value: { deviceId: `kiosk-${client}`, atMs: now, answer: { postingId, balanceCents: a.balanceCents - AMOUNT_CENTS } } },
      { type: 'put', key: `audit:lane:${unit.laneId}:rec:${String(seq).padStart(15, '0')}`, value: pseudoRandom(140), valueEncoding: 'buffer' },
      { type: 'put', key: headKey, value: { seq, tag: pseudoRandom(32).toString('base64') } },
    ];
    try {
      await store.commit(ops);
      laneHeads.set(unit.laneId, { seq });
    } catch (error) {
      laneHeads.delete(unit.laneId);
      throw error;
    }
  }, { prefetch });
}

/** When the run in progress ends: every loop looks before its next transaction. */
let runUntilMs = 0;

async function run(untilMs: number, keepSuccesses: boolean): Promise<RunResult> {
  runUntilMs = untilMs;
  const result: RunResult = { transactions: 0, elapsedMs: 0, latenciesMs: [], failures: {}, successes: [], cpuMicros: { user: 0, system: 0 } };
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: config.clients }, async (_, client) => {
      while (Date.now() < runUntilMs) {
        const requestId = `${REQUEST_PREFIX}-${(++requestCounter).toString(36).padStart(10, '0')}`;
        const t0 = Date.now();
        const p0 = performance.now();
        try {
          await moneyTransaction(client, requestId);
          result.transactions++;
          result.latenciesMs.push(performance.now() - p0);
          if (keepSuccesses) result.successes.push([t0, Date.now(), `idem:${requestId}`]);
        } catch (error) {
          const code = error instanceof PostgresStoreError ? error.code : 'EXCEPTION';
          result.failures[code] = (result.failures[code] ?? 0) + 1;
          if (!(error instanceof PostgresStoreError) || !error.retryable) throw error;
          // A kiosk waits a little before it retries.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }),
  );
  result.elapsedMs = Date.now() - started;
  result.cpuMicros = process.cpuUsage(cpuBefore);
  return result;
}

async function take(key: string, boundMs: number): Promise<{ atMs: number; attempts: number }> {
  const deadline = Date.now() + boundMs;
  for (let attempts = 1; ; attempts++) {
    try {
      await store.unitOfWork([key], () => store.commit([{ type: 'put', key, value: { takenBy: config.hostId } }]));
      return { atMs: Date.now(), attempts };
    } catch (error) {
      if (!(error instanceof PostgresStoreError) || !error.retryable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

process.on('message', (message: { id: number; command: WorkerCommand }) => {
  const { command } = message;
  let answer: Promise<unknown>;
  switch (command.type) {
    case 'run':
      answer = run(command.untilMs, command.keepSuccesses);
      break;
    case 'finish':
      runUntilMs = command.atMs;
      answer = Promise.resolve({});
      break;
    case 'hold':
      // Answers once the locks are held; the unit never ends.
      answer = new Promise((resolve) => void store.unitOfWork([command.key], () => new Promise<never>(() => resolve({ held: true }))).catch(() => {}));
      break;
    case 'take':
      answer = take(command.key, command.boundMs);
      break;
    case 'stop':
      answer = store.close().then(() => setImmediate(() => process.exit(0)));
      break;
  }
  answer.then(
    (result) => process.send!({ id: message.id, result }),
    (error: Error) => process.send!({ id: message.id, error: `${error.message}` }),
  );
});
process.send!({ id: 0, result: 'ready' });
