import test from 'ava';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuditChain } from '../../bank-host/audit/chain.js';
import { createCheckpoint, type AuditCheckpoint, type ChainCheckpoint } from '../../bank-host/audit/checkpoint.js';
import type { AuditEvent } from '../../bank-host/audit/event.js';
import {
  AUDIT_HEAD_KEY,
  ChainMac,
  auditRecordKey,
  chainTag,
  decodeStoredRecord,
  encodeStoredRecord,
  openRecord,
  readStoredRecords,
  sealRecord,
  sealStoredRecord,
  storedRecordPut,
  storedTag,
  seedsLine,
  toPlaintext,
  type StoredAuditHead,
} from '../../bank-host/audit/record.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import { verifyAuditChain, type AuditProblemKind, type AuditVerifyReport, type VerifyKeys } from '../../bank-host/audit/verify.js';
import { type BatchOp, Database } from '../../bank-host/store/database.js';
import { GroupCommitter } from '../../bank-host/store/group-commit.js';

const RECORDS = 20;
const START_MS = Date.UTC(2025, 5, 15, 12, 0, 0);

interface Log {
  readonly dir: string;
  readonly db: Database;
  readonly keys: VerifyKeys;
  readonly committer: GroupCommitter<AuditEvent>;
  readonly clock: { nowMs: number };
  close(): Promise<void>;
}

const newKeys = (): VerifyKeys => ({ enc: randomBytes(32), mac: randomBytes(32), sign: randomBytes(32) });

function event(i: number): AuditEvent {
  return {
    action: i % 3 === 0 ? 'withdraw.authorize' : 'deposit.commit',
    outcome: i % 5 === 0 ? 'failed' : 'ok',
    customerId: `cus_${i % 4}`,
    deviceId: `kiosk-${i % 2}`,
    amountCents: 1_000 * i,
    requestId: randomBytes(16).toString('hex'),
    ...(i % 5 === 0 && { reason: 'INSUFFICIENT_FUNDS' }),
  };
}

async function openLog(dir: string, keys: VerifyKeys, clock = { nowMs: START_MS }): Promise<Log> {
  const db = await Database.open(path.join(dir, 'db'));
  const chain = await AuditChain.open(db, keys);
  const committer = new GroupCommitter(db, chain, () => clock.nowMs);
  return {
    dir,
    db,
    keys,
    committer,
    clock,
    async close() {
      await committer.close();
      await db.close();
    },
  };
}

/** Appends events `from`..`to` (inclusive), several per batch, as concurrent commits do. */
async function append(log: Log, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i += 4) {
    const group = [];
    for (let j = i; j <= Math.min(to, i + 3); j++) {
      log.clock.nowMs += 1_000;
      group.push(log.committer.commit({ ops: [{ type: 'put', key: `state:${j}`, value: j }], events: [event(j)] }));
    }
    await Promise.all(group);
  }
}

async function freshLog(records = RECORDS): Promise<Log> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bank-audit-'));
  const log = await openLog(dir, newKeys());
  await append(log, 1, records);
  return log;
}

async function withLog(run: (log: Log) => Promise<void>, records = RECORDS): Promise<void> {
  const log = await freshLog(records);
  try {
    await run(log);
  } finally {
    await log.close();
    await rm(log.dir, { recursive: true, force: true });
  }
}

const rawRecord = async (log: Log, seq: number) => (await readStoredRecords(log.db, [seq]))[0]!;
/** Stores `value` as the raw bytes of record `seq`, as someone editing the database file would. */
const putRaw = (seq: number, value: Buffer) => ({ type: 'put' as const, key: auditRecordKey(seq), value, valueEncoding: 'buffer' as const });
const put = (log: Log, key: string, value: unknown) => log.db.writeDurably([{ type: 'put', key, value }]);
const del = (log: Log, key: string) => log.db.writeDurably([{ type: 'del', key }]);
const verify = (log: Log, checkpoint?: AuditCheckpoint): Promise<AuditVerifyReport> => verifyAuditChain(log.db, log.keys, checkpoint ? { checkpoint } : {});
async function checkpointOf(log: Log): Promise<ChainCheckpoint> {
  const head = (await log.db.get<StoredAuditHead>(AUDIT_HEAD_KEY))!;
  return createCheckpoint(log.keys.sign, { seq: head.seq, tag: Buffer.from(head.tag, 'base64') }, log.clock.nowMs);
}

function expectProblem(t: import('ava').ExecutionContext, report: AuditVerifyReport, kind: AuditProblemKind, seq: number | undefined, message?: RegExp): void {
  t.false(report.ok, 'verification must fail');
  t.is(report.problem?.kind, kind, report.problem?.message);
  t.is(report.problem?.seq, seq, report.problem?.message);
  if (message) t.regex(report.problem!.message, message);
}

test('an untouched log verifies: every record chains, the head names the last one', (t) =>
  withLog(async (log) => {
    const report = await verify(log);
    t.true(report.ok, report.problem?.message);
    t.is(report.records, RECORDS);
    t.is(report.verifiedThroughSeq, RECORDS);
    t.is(report.head?.seq, RECORDS);
    t.true((await verify(log, await checkpointOf(log))).ok);
  }));

test('records are sealed: the stored bytes hold no field in clear, and decrypt only with their own sequence number', (t) =>
  withLog(async (log) => {
    const raw = await rawRecord(log, 3);
    t.false(raw.includes('cus_3') || raw.includes('withdraw') || raw.includes('kiosk'), 'no field in clear');
    const stored = decodeStoredRecord(raw)!;
    const plain = openRecord(log.keys.enc, 3, stored.sealed);
    t.is(plain.a, 'withdraw.authorize');
    t.is(plain.amt, 3_000);
    // The sequence number is the associated data: a record moved to another place no longer decrypts.
    t.throws(() => openRecord(log.keys.enc, 4, stored.sealed), { message: /does not decrypt/ });
  }));

test("the seeds' line reads `CustomerID | Action | Timestamp`, failures with their reason", (t) => {
  t.is(
    seedsLine({ action: 'withdraw.authorize', outcome: 'failed', customerId: 'cus_1', amountCents: 10_000, reason: 'INSUFFICIENT_FUNDS' }, START_MS),
    'cus_1 | withdraw $100.00 failed - insufficient funds | 2025-06-15T12:00:00.000Z',
  );
  t.is(seedsLine({ action: 'handshake', outcome: 'refused', deviceId: 'kiosk-9', reason: 'UNKNOWN_DEVICE' }, START_MS), 'device:kiosk-9 | handshake refused - unknown device | 2025-06-15T12:00:00.000Z');
  t.is(seedsLine({ action: 'card.block', outcome: 'ok', actor: 'operator', customerId: 'cus_2' }, START_MS), 'cus_2 | operator: card.block | 2025-06-15T12:00:00.000Z');
});

test('flipping one byte of a ciphertext is diagnosed as that record modified', (t) =>
  withLog(async (log) => {
    const stored = decodeStoredRecord(await rawRecord(log, 7))!;
    const sealed = Buffer.from(stored.sealed);
    sealed[sealed.length - 3]! ^= 0x01;
    await log.db.writeDurably([storedRecordPut(7, sealed, stored.tag)]);
    expectProblem(t, await verify(log), 'modified', 7, /record 7 was modified/);
    // `show` does not trust it either.
    const page = await readAuditPage(log.db, log.keys.enc, { order: 'asc', limit: 100, scanLimit: 100 });
    t.deepEqual(page.undecryptableSeqs, [7]);
    t.is(page.entries.length, RECORDS - 1);
  }));

test('changing a tag is diagnosed as that record modified, naming the tag', (t) =>
  withLog(async (log) => {
    const stored = decodeStoredRecord(await rawRecord(log, 9))!;
    const tag = Buffer.from(stored.tag);
    tag[0]! ^= 0x80;
    await log.db.writeDurably([storedRecordPut(9, stored.sealed, tag)]);
    expectProblem(t, await verify(log), 'modified', 9, /record 9's tag was changed/);
  }));

test('a record value overwritten with something not in the stored form is diagnosed as that record modified', (t) =>
  withLog(async (log) => {
    await put(log, auditRecordKey(4), { seq: 4, note: 'nothing to see' });
    expectProblem(t, await verify(log), 'modified', 4, /record 4 is not in the stored record form/);
    // Shorter than a record, or in an unknown format: the same.
    await log.db.writeDurably([putRaw(4, encodeStoredRecord(4, randomBytes(80), randomBytes(32)).subarray(0, 40))]);
    expectProblem(t, await verify(log), 'modified', 4, /not in the stored record form/);
  }));

test('deleting a record in the middle is diagnosed as deleted, naming it', (t) =>
  withLog(async (log) => {
    await del(log, auditRecordKey(11));
    expectProblem(t, await verify(log), 'deleted', 11, /record 11 is missing/);
  }));

test('swapping two records is diagnosed as reordered', (t) =>
  withLog(async (log) => {
    const [five, six] = [await rawRecord(log, 5), await rawRecord(log, 6)];
    await log.db.writeDurably([putRaw(5, six), putRaw(6, five)]);
    expectProblem(t, await verify(log), 'reordered', 5, /position 5 holds record 6/);
  }));

test('a forged record inserted in the middle (the rest shifted up) is diagnosed as inserted', (t) =>
  withLog(async (log) => {
    const ops: BatchOp[] = [];
    for (let seq = RECORDS; seq >= 8; seq--) ops.push(putRaw(seq + 1, await rawRecord(log, seq)));
    // Without the MAC key the forger can only make up the tag.
    ops.push(storedRecordPut(8, randomBytes(80), randomBytes(32)));
    ops.push({ type: 'put', key: AUDIT_HEAD_KEY, value: { seq: RECORDS + 1, tag: randomBytes(32).toString('base64') } });
    await log.db.writeDurably(ops);
    expectProblem(t, await verify(log), 'inserted', 8, /forged record was inserted at position 8/);
  }));

test('a forged record appended after the head is diagnosed as inserted', (t) =>
  withLog(async (log) => {
    await log.db.writeDurably([storedRecordPut(RECORDS + 1, randomBytes(80), randomBytes(32))]);
    expectProblem(t, await verify(log), 'inserted', RECORDS + 1, /beyond the head/);
  }));

test('truncating the last records is diagnosed from the head', (t) =>
  withLog(async (log) => {
    await log.db.writeDurably([
      { type: 'del', key: auditRecordKey(RECORDS) },
      { type: 'del', key: auditRecordKey(RECORDS - 1) },
    ]);
    expectProblem(t, await verify(log), 'truncated', RECORDS - 1, new RegExp(`records ${RECORDS - 1}-${RECORDS} are missing`));
  }));

test('truncation that also rolls the head back passes the chain alone, and is caught by a checkpoint', (t) =>
  withLog(async (log) => {
    const checkpoint = await checkpointOf(log);
    const last = decodeStoredRecord(await rawRecord(log, RECORDS - 2))!;
    await log.db.writeDurably([
      { type: 'del', key: auditRecordKey(RECORDS) },
      { type: 'del', key: auditRecordKey(RECORDS - 1) },
      { type: 'put', key: AUDIT_HEAD_KEY, value: { seq: RECORDS - 2, tag: last.tag.toString('base64') } },
    ]);
    t.true((await verify(log)).ok, 'a consistent shorter log looks whole without outside evidence');
    expectProblem(t, await verify(log, checkpoint), 'rolled-back', RECORDS - 1, new RegExp(`names record ${RECORDS}, but the log ends at ${RECORDS - 2}`));
  }));

test('a head rolled back behind valid records is diagnosed as rolled back', (t) =>
  withLog(async (log) => {
    const earlier = decodeStoredRecord(await rawRecord(log, 15))!;
    await put(log, AUDIT_HEAD_KEY, { seq: 15, tag: earlier.tag.toString('base64') });
    expectProblem(t, await verify(log), 'rolled-back', 16, /head was rolled back/);
  }));

test('restoring an older copy of the whole store is caught by a checkpoint newer than the copy', async (t) => {
  const log = await freshLog(10);
  const copy = path.join(log.dir, 'older-copy');
  try {
    await log.close();
    await cp(path.join(log.dir, 'db'), copy, { recursive: true });
    const reopened = await openLog(log.dir, log.keys, log.clock);
    await append(reopened, 11, 25);
    const checkpoint = await checkpointOf(reopened);
    t.true((await verify(reopened, checkpoint)).ok);
    await reopened.close();
    await rm(path.join(log.dir, 'db'), { recursive: true });
    await cp(copy, path.join(log.dir, 'db'), { recursive: true });
    const restored = await openLog(log.dir, log.keys, log.clock);
    try {
      t.true((await verify(restored)).ok, 'the older copy is internally consistent');
      expectProblem(t, await verify(restored, checkpoint), 'rolled-back', 11, /older copy of the store was restored/);
      // The restored host goes on appending: its new record 11 is not the one the checkpoint vouched for.
      await append(restored, 11, 30);
      expectProblem(t, await verify(restored, checkpoint), 'modified', 25, /not the record the checkpoint signed/);
    } finally {
      await restored.close();
    }
  } finally {
    await rm(log.dir, { recursive: true, force: true });
  }
});

test('wrong keys are named as wrong keys, not as tampering', (t) =>
  withLog(async (log) => {
    expectProblem(t, await verifyAuditChain(log.db, { ...log.keys, mac: randomBytes(32) }), 'wrong-key', undefined, /MAC key/);
    expectProblem(t, await verifyAuditChain(log.db, { ...log.keys, enc: randomBytes(32) }), 'wrong-key', undefined, /encryption key/);
    const checkpoint = await checkpointOf(log);
    expectProblem(t, await verifyAuditChain(log.db, { ...log.keys, sign: randomBytes(32) }, { checkpoint }), 'bad-checkpoint', undefined, /signature/);
    expectProblem(t, await verify(log, { ...checkpoint, seq: checkpoint.seq + 5 }), 'bad-checkpoint', undefined);
    // A host opened with the wrong keys refuses to extend the chain rather than break it.
    const wrong = await AuditChain.open(log.db, { enc: log.keys.enc, mac: randomBytes(32) });
    t.regex(wrong.refusal ?? '', /do not match/);
    t.throws(() => wrong.prepare([event(1)], START_MS), { message: /do not match/ });
  }));

test('a failed batch leaves the head where it was, so the next batch reuses its sequence numbers', async (t) => {
  const log = await freshLog(3);
  try {
    const chain = await AuditChain.open(log.db, log.keys);
    chain.prepare([event(4), event(5)], START_MS);
    chain.failed();
    t.is(chain.current.seq, 3);
    await log.db.writeDurably(chain.prepare([event(4)], START_MS));
    chain.committed();
    t.is(chain.current.seq, 4);
    t.true((await verify(log)).ok);
  } finally {
    await log.close();
    await rm(log.dir, { recursive: true, force: true });
  }
});

test('show filters by customer (through the index), device, action and time, and pages', (t) =>
  withLog(async (log) => {
    const page = (request: Partial<Parameters<typeof readAuditPage>[2]>) =>
      readAuditPage(log.db, log.keys.enc, { order: 'asc', limit: 100, scanLimit: 1_000, ...request });
    const mine = await page({ customerId: 'cus_1' });
    t.deepEqual(mine.entries.map((e) => e.seq), [1, 5, 9, 13, 17]);
    t.true(mine.entries.every((e) => e.line.startsWith('cus_1 | ')));
    const authorizations = await page({ action: 'withdraw.authorize', deviceId: 'kiosk-1' });
    t.deepEqual(authorizations.entries.map((e) => e.seq), [3, 9, 15]);
    // Records of one batch share its commit time, so the expected window comes from the log itself.
    const all = (await page({})).entries;
    const [sinceMs, untilMs] = [all[4]!.timestampMs, all[10]!.timestampMs];
    t.true(sinceMs < untilMs);
    const window = await page({ sinceMs, untilMs });
    t.deepEqual(window.entries.map((e) => e.seq), all.filter((e) => e.timestampMs >= sinceMs && e.timestampMs <= untilMs).map((e) => e.seq));
    t.true(window.entries.length >= 3 && window.entries.length < RECORDS);
    const first = await page({ limit: 8 });
    t.is(first.nextCursorSeq, 8);
    const second = await page({ limit: 100, cursorSeq: first.nextCursorSeq! });
    t.is(second.entries[0]?.seq, 9);
    t.is(second.nextCursorSeq, undefined);
    const newest = await page({ customerId: 'cus_2', order: 'desc', limit: 2 });
    t.deepEqual(newest.entries.map((e) => e.seq), [18, 14]);
    t.is(newest.nextCursorSeq, 14);
  }));

test('a record never holds a PIN, password, key or full PAN, even when a caller puts one in an event', (t) => {
  const plain = toPlaintext(
    {
      action: 'signin.card',
      outcome: 'failed',
      customerId: 'cus_1',
      detail: { pin: '1234', pinBlock: 'ab'.repeat(16), password: 'hunter2hunter2', key: 'k', note: 'card 4111111111111111 used', pinTriesFailed: 2, keyVersion: 3 },
    },
    START_MS,
  );
  t.deepEqual(plain.x, { note: 'card ••••1111 used', pinTriesFailed: 2, keyVersion: 3 });
});

test("the host's own ids are kept whole in a record, though their hex digits can hold a PAN-length run of decimal digits", (t) => {
  // auth_ec7bbc4c989953619629059d: 15 decimal digits in a row, as one id in thirty has by chance.
  const authorizationId = 'auth_ec7bbc4c989953619629059d';
  const plain = toPlaintext(
    {
      action: 'hold.resolve',
      outcome: 'ok',
      detail: { authorizationId, depositId: 'dep_123456789012345678901a2b', note: `hold ${authorizationId} for card 4111111111111111`, allDigits: 'acc_4111111111111111', glued: 'x4111111111111111' },
    },
    START_MS,
  );
  t.deepEqual(plain.x, {
    authorizationId,
    depositId: 'dep_123456789012345678901a2b',
    note: `hold ${authorizationId} for card ••••1111`,
    // An "id" of decimal digits only is a number like any other; so is a run glued to a word.
    allDigits: 'acc_••••1111',
    glued: 'x••••1111',
  });
});

test('the fast chain MAC is exactly HMAC-SHA256 over previous tag, sequence number and sealed bytes', (t) => {
  const key = randomBytes(32);
  const mac = new ChainMac(key);
  for (const size of [29, 300, 8_192, 9_000]) {
    const previous = randomBytes(32);
    const sealed = randomBytes(size);
    const seq = 1 + Math.floor(Math.random() * 1e12);
    t.deepEqual(mac.tag(previous, seq, sealed), chainTag(key, previous, seq, sealed), `sealed of ${size} bytes`);
  }
  // Sequence numbers past 2^32 take both halves of the 8 bytes.
  t.deepEqual(mac.tag(Buffer.alloc(32, 1), 2 ** 40 + 7, Buffer.alloc(40, 2)), chainTag(key, Buffer.alloc(32, 1), 2 ** 40 + 7, Buffer.alloc(40, 2)));
});

test('a record sealed into its stored value in one buffer is byte for byte the reference: sealed, MACed, then encoded', (t) => {
  const keys = newKeys();
  const mac = new ChainMac(keys.mac);
  const plaintext = toPlaintext({ action: 'deposit.commit', outcome: 'ok', customerId: 'c-1', amountCents: 4_000, detail: { note: 'é ✓' } }, START_MS);
  for (const seq of [1, 4_294_967_297]) {
    const previous = randomBytes(32);
    const iv = randomBytes(12);
    const value = sealStoredRecord(keys.enc, mac, previous, seq, plaintext, iv);
    const sealed = sealRecord(keys.enc, seq, plaintext, iv);
    const reference = encodeStoredRecord(seq, sealed, chainTag(keys.mac, previous, seq, sealed));
    t.deepEqual(value, reference);
    t.deepEqual(storedTag(value), chainTag(keys.mac, previous, seq, sealed));
    t.deepEqual(decodeStoredRecord(value)?.seq, seq);
    t.deepEqual(openRecord(keys.enc, seq, decodeStoredRecord(value)!.sealed), plaintext);
  }
});
