// The audit log on PostgreSQL, one chain per lane: what `audit verify` finds when lanes are tampered with,
// signed checkpoints of every lane's head (`audit checkpoint` on PostgreSQL), and verification of a log
// that another host appends to while it is walked. Hosts on the real dispatcher, on a fresh database of the
// run's Patroni cluster; tampering is done as someone with write access to the database would.
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LANE_CHECKPOINT_FORMAT, createCheckpoint, type AuditCheckpoint, type LaneCheckpoint } from '../../bank-host/audit/checkpoint.js';
import { AUDIT_LANE_HEAD_PREFIX, laneHeadKey, laneIndexKey, laneIndexPrefix, parseLaneHead } from '../../bank-host/audit/lane-chain.js';
import { auditVerifyArgs, runAuditCheckpoint, runAuditVerify } from '../../bank-host/audit/operator-commands.js';
import { auditRecordKey, decodeStoredRecord, genesisTag, storedRecordPut } from '../../bank-host/audit/record.js';
import { verifyAuditChain, type AuditProblemKind, type AuditVerifyReport } from '../../bank-host/audit/verify.js';
import { Database } from '../../bank-host/store/database.js';
import { createHarness, type Harness } from '../helpers/dispatcher-harness.js';
import { CLUSTER_START_TIMEOUT_MS } from '../helpers/postgres-cluster.js';
import { clusterStartMs, sharedCluster, stopSharedCluster } from '../helpers/store-backend.js';

process.env.BANK_HOST_STORE = 'postgresql';
const PASSWORD = 'correct horse battery';

test.before(async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 30_000);
  await sharedCluster();
  t.log(`cluster started in ${clusterStartMs} ms`);
});
test.after.always(() => stopSharedCluster());

/** A host with a customer who made `deposits` deposits: a few lanes' worth of records. */
async function hostWithRecords(t: ExecutionContext, deposits = 6): Promise<{ host: Harness; more: (n: number) => Promise<void> }> {
  const host = await createHarness();
  t.teardown(() => host.close());
  const kiosk = await host.connect('kiosk-a');
  const info = await host.ok(kiosk, 'register', { username: 'alice', password: PASSWORD });
  const accountId = info.accounts[0]!.accountId;
  const more = async (n: number) => {
    // At once, so that several lanes append.
    await Promise.all(Array.from({ length: n }, () => host.deposit(kiosk, accountId, 2_000)));
  };
  await more(deposits);
  return { host, more };
}

const keysOf = (host: Harness) => ({ enc: host.services.keys.auditEnc, mac: host.services.keys.auditMac, sign: host.services.keys.auditSign });
const verify = (host: Harness, checkpoint?: AuditCheckpoint) => verifyAuditChain(host.services.db, keysOf(host), checkpoint ? { checkpoint } : {});

async function laneHeads(host: Harness): Promise<Map<string, { seq: number; tag: Buffer; count: number }>> {
  const heads = new Map<string, { seq: number; tag: Buffer; count: number }>();
  for await (const [key, value] of host.services.db.entries<unknown>(AUDIT_LANE_HEAD_PREFIX)) heads.set(key.slice(AUDIT_LANE_HEAD_PREFIX.length), parseLaneHead(value)!);
  return heads;
}

async function lanePositions(host: Harness, lane: string): Promise<number[]> {
  const positions: number[] = [];
  for await (const [key] of host.services.db.entries<unknown>(laneIndexPrefix(lane))) positions.push(Number(key.slice(laneIndexPrefix(lane).length)));
  return positions;
}

/** The lane with the most records (at least 2). */
async function longestLane(host: Harness): Promise<{ lane: string; positions: number[] }> {
  let best = { lane: '', positions: [] as number[] };
  for (const lane of (await laneHeads(host)).keys()) {
    const positions = await lanePositions(host, lane);
    if (positions.length > best.positions.length) best = { lane, positions };
  }
  if (best.positions.length < 2) throw new Error('no lane holds two records');
  return best;
}

function expectProblem(t: ExecutionContext, report: AuditVerifyReport, kind: AuditProblemKind, message: RegExp): void {
  t.false(report.ok, 'verification must fail');
  t.is(report.problem?.kind, kind, report.problem?.message);
  t.regex(report.problem?.message ?? '', message);
}

test('an untouched log of several lanes verifies, and its signed checkpoint names every lane and matches', async (t) => {
  const { host, more } = await hostWithRecords(t);
  const report = await verify(host);
  t.true(report.ok, report.problem?.message);
  const heads = await laneHeads(host);
  const { checkpoint, report: checked } = await runAuditCheckpoint({ services: host.services });
  t.true(checked.ok);
  t.is(checkpoint.format, LANE_CHECKPOINT_FORMAT);
  const lanes = (checkpoint as LaneCheckpoint).lanes;
  t.deepEqual(lanes.map((l) => l.lane).sort(), [...heads.keys()].sort());
  for (const l of lanes) t.like(heads.get(l.lane), { seq: l.seq, count: l.count });
  // What the admin command takes from a checkpoint file, and what it answers.
  const verified = await runAuditVerify({ services: host.services }, auditVerifyArgs.parse({ checkpoint: JSON.parse(JSON.stringify(checkpoint)) }));
  t.true(verified.ok, verified.problem?.message);
  t.like(verified.checkpoint, { matched: true, timeMs: checkpoint.timeMs });
  // The log goes on growing: the checkpoint still holds.
  await more(4);
  t.true((await verify(host, checkpoint)).ok);
});

test('a record modified, a record deleted from its lane, and a record in no lane are each named', async (t) => {
  const { host } = await hostWithRecords(t);
  const { lane, positions } = await longestLane(host);
  const [first] = positions;
  const raw = (await host.services.db.getBuffers([auditRecordKey(first!)]))[0]!;
  const stored = decodeStoredRecord(raw)!;
  const flipped = Buffer.from(stored.sealed);
  flipped[flipped.length - 1]! ^= 0x01;
  await host.services.db.writeDurably([storedRecordPut(first!, flipped, stored.tag)]);
  expectProblem(t, await verify(host), 'modified', new RegExp(`record ${first} of lane ${lane.replace('/', '\\/')} was modified`));
  await host.services.db.writeDurably([storedRecordPut(first!, stored.sealed, stored.tag)]);
  t.true((await verify(host)).ok, 'put back, the log verifies again');

  await host.services.db.writeDurably([{ type: 'del', key: auditRecordKey(first!) }]);
  expectProblem(t, await verify(host), 'deleted', /missing: deleted/);
  await host.services.db.writeDurably([storedRecordPut(first!, stored.sealed, stored.tag)]);

  await host.services.db.writeDurably([storedRecordPut(999_999, randomBytes(80), randomBytes(32))]);
  expectProblem(t, await verify(host), 'inserted', /belong to no chain/);
});

test('a lane cut off together with its head passes the chains alone, and is caught by a checkpoint', async (t) => {
  const { host } = await hostWithRecords(t);
  const { checkpoint } = await runAuditCheckpoint({ services: host.services });
  const { lane, positions } = await longestLane(host);
  const last = positions.at(-1)!;
  const before = positions.at(-2)!;
  const earlier = decodeStoredRecord((await host.services.db.getBuffers([auditRecordKey(before)]))[0])!;
  await host.services.db.writeDurably([
    { type: 'del', key: auditRecordKey(last) },
    { type: 'del', key: laneIndexKey(lane, last) },
    { type: 'put', key: laneHeadKey(lane), value: { seq: before, tag: earlier.tag.toString('base64'), count: positions.length - 1 } },
  ]);
  t.true((await verify(host)).ok, 'a consistent shorter lane looks whole without outside evidence');
  expectProblem(t, await verify(host, checkpoint), 'rolled-back', new RegExp(`names record ${last} of lane .* but the lane ends at ${before}`));
});

test('a whole lane removed is caught by a checkpoint that names it', async (t) => {
  const { host } = await hostWithRecords(t);
  const { checkpoint } = await runAuditCheckpoint({ services: host.services });
  const { lane, positions } = await longestLane(host);
  await host.services.db.writeDurably([
    { type: 'del', key: laneHeadKey(lane) },
    ...positions.flatMap((p) => [{ type: 'del' as const, key: laneIndexKey(lane, p) }, { type: 'del' as const, key: auditRecordKey(p) }]),
  ]);
  t.true((await verify(host)).ok, 'the other lanes are whole');
  expectProblem(t, await verify(host, checkpoint), 'rolled-back', /has no such lane/);
});

test('a checkpoint altered, forged, or of the other backend is refused as a bad checkpoint', async (t) => {
  const { host } = await hostWithRecords(t);
  const { checkpoint } = await runAuditCheckpoint({ services: host.services });
  const lane = checkpoint as LaneCheckpoint;
  const altered = { ...lane, lanes: lane.lanes.map((l, i) => (i === 0 ? { ...l, seq: l.seq + 1 } : l)) };
  expectProblem(t, await verify(host, altered), 'bad-checkpoint', /signature/);
  expectProblem(t, await verifyAuditChain(host.services.db, { ...keysOf(host), sign: randomBytes(32) }, { checkpoint }), 'bad-checkpoint', /signature/);
  // The file's bounds: a lane named twice is not a checkpoint.
  t.false(auditVerifyArgs.safeParse({ checkpoint: { ...lane, lanes: [lane.lanes[0], lane.lanes[0]] } }).success);

  // A LevelDB log given a lane checkpoint, and the other way round.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-lanes-level-'));
  const level = await Database.open(path.join(dir, 'db'));
  try {
    expectProblem(t, await verifyAuditChain(level, keysOf(host), { checkpoint }), 'bad-checkpoint', /PostgreSQL log's lanes/);
  } finally {
    await level.close();
    await rm(dir, { recursive: true, force: true });
  }
  const chain = createCheckpoint(host.services.keys.auditSign, { seq: 5, tag: randomBytes(32) }, host.clock.nowMs);
  expectProblem(t, await verify(host, chain), 'rolled-back', /lane leveldb .*no such lane/);
  t.true((await verify(host, createCheckpoint(host.services.keys.auditSign, { seq: 0, tag: genesisTag(host.services.keys.auditMac) }, host.clock.nowMs))).ok, "an empty LevelDB log's checkpoint vouches for nothing");
});

test('verify on a log another host appends to while it is walked sees one snapshot and passes', async (t) => {
  t.timeout(180_000);
  const { host: a } = await hostWithRecords(t, 4);
  const b = await createHarness({ sameStoreAs: { keysDir: a.keysDir, store: a.store, hostId: 'host-b' } });
  t.teardown(() => b.close());
  const kiosk = await b.connect('kiosk-b');
  const accountId = (await b.ok(kiosk, 'register', { username: 'bob', password: PASSWORD })).accounts[0]!.accountId;
  let writing = true;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      await Promise.all(Array.from({ length: 4 }, () => b.deposit(kiosk, accountId, 2_000)));
      written += 4;
    }
  })();
  const reports: AuditVerifyReport[] = [];
  const recordsSeen: number[] = [];
  try {
    // Until host B has appended during at least three walks (each walk reads every lane's head and records).
    for (let i = 0; i < 50 && recordsSeen.filter((n, j) => j > 0 && n > recordsSeen[j - 1]!).length < 3; i++) {
      const report = await verify(a);
      reports.push(report);
      recordsSeen.push(report.records);
    }
  } finally {
    writing = false;
    await writer;
  }
  t.true(written > 0);
  t.true(recordsSeen.filter((n, j) => j > 0 && n > recordsSeen[j - 1]!).length >= 3, `the log grew between walks: ${recordsSeen.join(', ')}`);
  t.deepEqual(reports.filter((r) => !r.ok).map((r) => r.problem?.message), []);
  t.true((await verify(a)).ok);
});
