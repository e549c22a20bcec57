// `npx tsx bench/leveldb-batch.ts`: what one group-commit batch costs the event loop, for each way of
// handing it to LevelDB (docs/ledger.md, "Performance"). Each batch is shaped like the host's under load:
// 24 money transactions of 9 operations (two accounts, two posting legs, the idempotency record and its
// expiry index, the sealed audit record as raw bytes, its customer index, the chain head).
//   private   abstract-level's private _batch() with values encoded beforehand: what the host did before it
//             kept to the public API. A reference only; the host never calls it.
//   array     the public batch(operations) with values encoded beforehand (JSON text as utf8, raw bytes)
//   chained   the public chained batch, values encoded beforehand, a valueEncoding on every put
//   json      the public chained batch with the database's own JSON encoding: put(key, value), and options
//             ({ valueEncoding: 'buffer' }) only on the raw audit bytes. What store/database.ts does.
// Every variant writes with sync: true. Each round runs every variant in a fresh process (so one variant's
// JIT state cannot help or hurt another's), in an order that alternates between rounds.
// Parameters: BENCH_BATCH_ROUNDS (5), BENCH_BATCHES (300 measured batches per run, after 100 to warm up).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { median, benchSetting } from './stats.js';

const ROUNDS = benchSetting('BENCH_BATCH_ROUNDS', 5, 1, 1_000);
const BATCHES = benchSetting('BENCH_BATCHES', 300, 1, 1_000_000);
const WARMUP_BATCHES = 100;
const CHANGES_PER_BATCH = 24;

type Op = { type: 'put'; key: string; value: unknown; valueEncoding?: 'buffer' } | { type: 'del'; key: string };
type Write = (level: Level<string, unknown>, ops: readonly Op[]) => Promise<void>;

const BUFFER_VALUE = { valueEncoding: 'buffer' } as const;
const preEncoded = (op: Extract<Op, { type: 'put' }>) => (op.valueEncoding === 'buffer' ? (op.value as Buffer) : JSON.stringify(op.value));

const VARIANTS: Record<string, Write> = {
  private: (level, ops) =>
    (level as unknown as { _batch(operations: unknown[], options: { sync: boolean }): Promise<void> })._batch(
      ops.map((op) =>
        op.type === 'del'
          ? { type: 'del', key: op.key, keyEncoding: 'utf8' }
          : { type: 'put', key: op.key, keyEncoding: 'utf8', value: preEncoded(op), valueEncoding: op.valueEncoding ?? 'utf8' },
      ),
      { sync: true },
    ),
  array: (level, ops) =>
    level.batch(
      ops.map((op) => (op.type === 'del' ? op : { type: 'put', key: op.key, value: preEncoded(op), valueEncoding: op.valueEncoding ?? 'utf8' })) as never,
      { sync: true },
    ),
  chained: (level, ops) => {
    const batch = level.batch();
    for (const op of ops) {
      if (op.type === 'del') batch.del(op.key);
      else batch.put(op.key, preEncoded(op) as never, { valueEncoding: op.valueEncoding ?? 'utf8' });
    }
    return batch.write({ sync: true });
  },
  json: (level, ops) => {
    const batch = level.batch();
    for (const op of ops) {
      if (op.type === 'del') batch.del(op.key);
      else if (op.valueEncoding === 'buffer') batch.put(op.key, op.value as never, BUFFER_VALUE);
      else batch.put(op.key, op.value);
    }
    return batch.write({ sync: true });
  },
};

let transaction = 0;
function transactionOps(): Op[] {
  transaction++;
  const n = transaction;
  const seq = (width: number) => String(n).padStart(width, '0');
  const account = (id: string, balanceCents: number) => ({ accountId: id, kind: 'chequing', currency: 'CAD', customerId: 'cus_0123456789abcdef', balanceCents, heldCents: 0, nextSeq: n + 1, openedMs: 1_750_000_000_000 });
  const leg = (id: string, amountCents: number) => ({ postingId: `pst_${seq(24)}`, accountId: id, seq: n, kind: 'deposit', amountCents, balanceAfterCents: amountCents * n, timestampMs: 1_750_000_000_000 + n, deviceId: 'kiosk-01', counterpartAccountId: 'cash-kiosk-01', counterpartSeq: n, requestId: randomBytes(16).toString('hex') });
  const requestId = randomBytes(16).toString('hex');
  const accountId = `acc_${String(n % 64).padStart(16, '0')}`;
  return [
    { type: 'put', key: `acct:${accountId}`, value: account(accountId, n) },
    { type: 'put', key: 'acct:cash-kiosk-01', value: account('cash-kiosk-01', -n) },
    { type: 'put', key: `post:${accountId}:${seq(12)}`, value: leg(accountId, 100) },
    { type: 'put', key: `post:cash-kiosk-01:${seq(12)}`, value: leg('cash-kiosk-01', -100) },
    { type: 'put', key: `idem:kiosk-01:${requestId}`, value: { bodyHash: randomBytes(32).toString('hex'), type: 'deposit', outcome: { ok: true, result: { postingId: `pst_${seq(24)}`, account: { accountId, kind: 'chequing', currency: 'CAD', balanceCents: n, availableCents: n } } }, storedAtMs: 1_750_000_000_000 + n } },
    { type: 'put', key: `idemexp:${String(1_750_000_000_000 + n).padStart(15, '0')}:kiosk-01:${requestId}`, value: 1 },
    { type: 'put', key: `audit:rec:${seq(15)}`, value: randomBytes(180), valueEncoding: 'buffer' },
    { type: 'put', key: `audit:cust:cus_0123456789abcdef:${seq(15)}`, value: '' },
    { type: 'put', key: 'audit:head', value: { seq: n, tag: randomBytes(32).toString('base64') } },
  ];
}

/** One process, one variant: event-loop microseconds per operation (the synchronous part of handing the
 *  batch over, JSON encoding included), and synced batches per second. */
async function runVariant(name: string): Promise<{ microsPerOp: number; batchesPerSecond: number }> {
  const write = VARIANTS[name];
  if (!write) throw new Error(`unknown variant ${name}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-leveldb-batch-'));
  const level = new Level<string, unknown>(path.join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'json' });
  await level.open();
  try {
    let syncNs = 0n;
    let ops = 0;
    let started = 0;
    for (let b = 0; b < WARMUP_BATCHES + BATCHES; b++) {
      if (b === WARMUP_BATCHES) started = performance.now();
      const batch: Op[] = [];
      for (let c = 0; c < CHANGES_PER_BATCH; c++) batch.push(...transactionOps());
      const before = process.hrtime.bigint();
      const written = write(level, batch);
      const spent = process.hrtime.bigint() - before;
      if (b >= WARMUP_BATCHES) {
        syncNs += spent;
        ops += batch.length;
      }
      await written;
    }
    const stored = await level.get('audit:head');
    if ((stored as { seq?: number } | undefined)?.seq !== transaction) throw new Error(`${name}: the last batch did not land`);
    return { microsPerOp: Number(syncNs) / 1_000 / ops, batchesPerSecond: BATCHES / ((performance.now() - started) / 1_000) };
  } finally {
    await level.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function inChild(name: string): Promise<{ microsPerOp: number; batchesPerSecond: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url).pathname, ['--variant', name], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message) => resolve(message as { microsPerOp: number; batchesPerSecond: number }));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`${name} exited with ${code}`))));
  });
}

const variantArgument = process.argv.indexOf('--variant');
if (variantArgument !== -1) {
  const result = await runVariant(process.argv[variantArgument + 1]!);
  process.send!(result, () => process.exit(0));
} else {
  const names = Object.keys(VARIANTS);
  const results = new Map(names.map((name) => [name, [] as { microsPerOp: number; batchesPerSecond: number }[]]));
  console.log(`LevelDB batch forms: ${ROUNDS} rounds of ${BATCHES} synced batches of ${CHANGES_PER_BATCH * 9} operations, each variant in its own process`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) results.get(name)!.push(await inChild(name));
  }
  for (const [name, runs] of results) {
    const micros = runs.map((r) => r.microsPerOp);
    console.log(
      `${name.padEnd(8)} event loop per operation: median ${median(micros).toFixed(2)} µs (runs ${micros.map((m) => m.toFixed(2)).join(', ')}); synced batches/s median ${Math.round(median(runs.map((r) => r.batchesPerSecond)))}`,
    );
  }
}
