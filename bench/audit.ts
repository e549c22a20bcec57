// `npx tsx bench/audit.ts`: what the audit log costs and how fast it verifies.
//   1. The ledger load test in process: KIOSKS concurrent kiosks drive deposits and two-phase withdrawals
//      through the real dispatcher (idempotency records, locks, group commit with `sync: true`), once
//      without an audit sink and once with the audit chain, alternating ROUNDS times; reports requests/s
//      both ways, the cost in percent, and audit records appended per second.
//   2. Sealing and chaining alone (CPU), records per second.
//   3. `audit verify` over a log of AUDIT_RECORDS records (default 1,000,000), records per second.
// Parameters: BENCH_SECONDS (default 5) per load phase, BENCH_KIOSKS (64), BENCH_ROUNDS (2),
// BENCH_AUDIT_RECORDS (1000000). Targets: audit costs the load test < 15 %; verify ≥ 200,000 records/s.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION } from '../protocol/limits.js';
import { silentLogger } from '../protocol/log.js';
import { AuditChain } from '../bank-host/audit/chain.js';
import type { AuditEvent } from '../bank-host/audit/event.js';
import { verifyAuditChain } from '../bank-host/audit/verify.js';
import { defaultHostConfig } from '../bank-host/config.js';
import { KEY_FILES, type HostKeys, type KeyName } from '../bank-host/keys.js';
import { createBankingOperations } from '../bank-host/operations/banking.js';
import type { ConnectionState, HostServices } from '../bank-host/operations/context.js';
import { Dispatcher } from '../bank-host/server/dispatcher.js';
import { Database } from '../bank-host/store/database.js';
import { GroupCommitter } from '../bank-host/store/group-commit.js';
import { KeyedLocks } from '../bank-host/store/locks.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const KIOSKS = Number(process.env.BENCH_KIOSKS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const AUDIT_RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 1_000_000);
/** Events per batch when building the verify log: large batches, so building is not fsync-bound. */
const BUILD_BATCH_RECORDS = 5_000;
const CHEAP_SCRYPT = { log2N: 10, r: 8, p: 1 };
const COST_TARGET_PERCENT = 15;
const VERIFY_TARGET_RECORDS_PER_SECOND = 200_000;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const randomKeys = () => Object.fromEntries((Object.keys(KEY_FILES) as KeyName[]).map((name) => [name, randomBytes(32)])) as HostKeys;

interface LoadResult {
  readonly requestsPerSecond: number;
  readonly recordsPerSecond: number;
  readonly batches: number;
}

async function ledgerLoad(withAudit: boolean): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-audit-load-'));
  const db = await Database.open(path.join(dir, 'db'));
  try {
    const keys = randomKeys();
    const committer = new GroupCommitter(db);
    const chain = withAudit ? await AuditChain.open(db, { enc: keys.auditEnc, mac: keys.auditMac }) : undefined;
    if (chain) committer.setAuditSink(chain);
    const services: HostServices = {
      db,
      committer,
      locks: new KeyedLocks(),
      config: defaultHostConfig({ registrationEnabled: true, dailyWithdrawalLimitCents: 1_000_000_000_000, maxWithdrawalCents: 100_000 }),
      keys,
      log: silentLogger,
      now: Date.now,
    };
    const dispatcher = new Dispatcher({ services, operations: createBankingOperations({ scryptCost: CHEAP_SCRYPT }), deviceKey: () => undefined });
    const send = async (connection: ConnectionState, type: string, body: unknown): Promise<Record<string, unknown>> => {
      const response = await dispatcher.dispatch(connection, { v: PROTOCOL_VERSION, id: randomBytes(16).toString('hex'), ts: Date.now(), type, body });
      if (!response.ok) throw new Error(`${type} failed: ${response.error.code} ${response.error.message}`);
      return response.result as Record<string, unknown>;
    };
    const kiosks = await Promise.all(
      Array.from({ length: KIOSKS }, async (_, i) => {
        const connection: ConnectionState = { connectionId: `c${i}`, deviceId: `kiosk-${i}`, session: undefined };
        const info = await send(connection, 'register', { username: `bench${i}`, password: 'correct horse battery' });
        const accountId = (info.accounts as { accountId: string }[])[0]!.accountId;
        await send(connection, 'deposit', { accountId, amountCents: 1_000_000 });
        return { connection, accountId };
      }),
    );
    const startSeq = chain?.current.seq ?? 0;
    const startBatches = committer.stats.batches;
    let requests = 0;
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    // Each kiosk: deposit, authorize a withdrawal, complete it; the ledger's common mix.
    await Promise.all(
      kiosks.map(async ({ connection, accountId }) => {
        while (performance.now() < deadline) {
          await send(connection, 'deposit', { accountId, amountCents: 4_000 });
          const { authorizationId } = await send(connection, 'withdraw.authorize', { accountId, amountCents: 2_000 });
          await send(connection, 'withdraw.complete', { authorizationId, dispensedCents: 2_000 });
          requests += 3;
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    await committer.close();
    return {
      requestsPerSecond: requests / elapsedS,
      recordsPerSecond: ((chain?.current.seq ?? 0) - startSeq) / elapsedS,
      batches: committer.stats.batches - startBatches,
    };
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function sampleEvent(i: number): AuditEvent {
  return {
    action: i % 3 === 0 ? 'withdraw.authorize' : 'deposit',
    outcome: i % 7 === 0 ? 'failed' : 'ok',
    customerId: `cus_${(i % 5_000).toString(16).padStart(16, '0')}`,
    deviceId: `kiosk-${i % 64}`,
    amountCents: 2_000 * ((i % 10) + 1),
    requestId: randomBytes(16).toString('hex'),
    detail: { accountId: `acc_${(i % 5_000).toString(16).padStart(16, '0')}` },
    ...(i % 7 === 0 && { reason: 'INSUFFICIENT_FUNDS' }),
  };
}

async function sealOnly(): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-audit-seal-'));
  const db = await Database.open(path.join(dir, 'db'));
  try {
    const chain = await AuditChain.open(db, { enc: randomBytes(32), mac: randomBytes(32) });
    const events = Array.from({ length: 1_000 }, (_, i) => sampleEvent(i));
    const started = performance.now();
    let records = 0;
    while (performance.now() - started < 2_000) {
      chain.prepare(events, Date.now());
      chain.committed();
      records += events.length;
    }
    return records / ((performance.now() - started) / 1000);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function verifySpeed(): Promise<{ records: number; recordsPerSecond: number; buildRecordsPerSecond: number; ok: boolean }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-audit-verify-'));
  const db = await Database.open(path.join(dir, 'db'));
  try {
    const keys = { enc: randomBytes(32), mac: randomBytes(32), sign: randomBytes(32) };
    const chain = await AuditChain.open(db, keys);
    const buildStarted = performance.now();
    for (let done = 0; done < AUDIT_RECORDS; done += BUILD_BATCH_RECORDS) {
      const events = Array.from({ length: Math.min(BUILD_BATCH_RECORDS, AUDIT_RECORDS - done) }, (_, i) => sampleEvent(done + i));
      await db.writeDurably(chain.prepare(events, Date.now()));
      chain.committed();
      if ((done / BUILD_BATCH_RECORDS) % 40 === 0) process.stderr.write(`\r  building the log: ${fmt(done)} of ${fmt(AUDIT_RECORDS)} records`);
    }
    process.stderr.write('\n');
    const buildRecordsPerSecond = AUDIT_RECORDS / ((performance.now() - buildStarted) / 1000);
    const report = await verifyAuditChain(db, keys, { onProgress: (done, total) => process.stderr.write(`\r  verifying: ${fmt(done)} of ${fmt(total)} records`) });
    process.stderr.write('\n');
    return { records: report.records, recordsPerSecond: report.recordsPerSecond, buildRecordsPerSecond, ok: report.ok };
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  console.log(`audit bench: ${KIOSKS} kiosks, ${SECONDS} s per load phase, ${ROUNDS} rounds; verify over ${fmt(AUDIT_RECORDS)} records`);
  const without: LoadResult[] = [];
  const withAudit: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`  load round ${round + 1}/${ROUNDS}: without audit…`);
    without.push(await ledgerLoad(false));
    process.stderr.write(' with audit…');
    withAudit.push(await ledgerLoad(true));
    process.stderr.write(' done\n');
  }
  const plain = median(without.map((r) => r.requestsPerSecond));
  const audited = median(withAudit.map((r) => r.requestsPerSecond));
  const costPercent = ((plain - audited) / plain) * 100;
  const appendRate = median(withAudit.map((r) => r.recordsPerSecond));
  console.log(`ledger load test without audit: ${fmt(plain)} requests/s (runs: ${without.map((r) => fmt(r.requestsPerSecond)).join(', ')})`);
  console.log(`ledger load test with audit:    ${fmt(audited)} requests/s (runs: ${withAudit.map((r) => fmt(r.requestsPerSecond)).join(', ')})`);
  console.log(`audit cost: ${fmt(costPercent, 1)} % of load-test throughput (target < ${COST_TARGET_PERCENT} %) ${costPercent < COST_TARGET_PERCENT ? 'OK' : 'OVER TARGET'}`);
  console.log(`audit append under load: ${fmt(appendRate)} records/s (durable, in the ledger's own batches)`);
  console.log(`audit seal+chain alone (CPU): ${fmt(await sealOnly())} records/s`);
  const v = await verifySpeed();
  console.log(`audit log built at ${fmt(v.buildRecordsPerSecond)} records/s (batches of ${fmt(BUILD_BATCH_RECORDS)})`);
  console.log(
    `audit verify: ${fmt(v.records)} records at ${fmt(v.recordsPerSecond)} records/s (target ≥ ${fmt(VERIFY_TARGET_RECORDS_PER_SECOND)}) ${v.ok && v.recordsPerSecond >= VERIFY_TARGET_RECORDS_PER_SECOND ? 'OK' : v.ok ? 'UNDER TARGET' : 'LOG DID NOT VERIFY'}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
