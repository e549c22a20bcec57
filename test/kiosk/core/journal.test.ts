// The kiosk journal: durable appends, a torn last line dropped, damage elsewhere refused, compaction.
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { JOURNAL_FILE, JournalCorruptError, KioskJournal, LEGACY_JOURNAL_FILE, type DepositRecord, type WithdrawalRecord } from '../../../kiosk/core/journal.js';

function record(withdrawalId: string, changes: Partial<WithdrawalRecord> = {}): WithdrawalRecord {
  return {
    withdrawalId,
    step: 'authorizing',
    accountId: 'acc_1',
    amountCents: 6_000,
    plannedNotes: [3, 0],
    denominationsCents: [2_000, 5_000],
    transactionId: 42,
    authorizeRequestId: 'a'.repeat(32),
    settleRequestId: 'b'.repeat(32),
    updatedMs: 1,
    ...changes,
  };
}

async function tempDir(t: import('ava').ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-journal-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the last record of each withdrawal is its state, across reopen', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  await journal.record(record('w1'));
  await journal.record(record('w1', { step: 'authorized', authorizationId: 'auth_1' }));
  await journal.record(record('w2'));
  await journal.record(record('w2', { step: 'declined', outcome: 'declined', declineCode: 'INSUFFICIENT_FUNDS' }));
  await journal.close();
  const reopened = await KioskJournal.open(dir);
  t.teardown(() => reopened.close());
  t.deepEqual(reopened.unfinishedWithdrawals().map((r) => [r.withdrawalId, r.step]), [['w1', 'authorized']]);
});

test('a torn last line (power lost mid-write) is dropped and the file is cut back to the good prefix', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  await journal.record(record('w1'));
  await journal.close();
  const file = path.join(dir, JOURNAL_FILE);
  const good = await readFile(file, 'utf8');
  await appendFile(file, good.slice(0, 40));
  const reopened = await KioskJournal.open(dir);
  t.deepEqual(reopened.unfinishedWithdrawals().map((r) => r.step), ['authorizing']);
  t.is(await readFile(file, 'utf8'), good);
  await reopened.record(record('w1', { step: 'authorized', authorizationId: 'auth_1' }));
  await reopened.close();
  const third = await KioskJournal.open(dir);
  t.teardown(() => third.close());
  t.deepEqual(third.unfinishedWithdrawals().map((r) => r.step), ['authorized']);
});

test('a damaged line that is not the last stops the kiosk instead of guessing', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  await journal.record(record('w1'));
  await journal.record(record('w1', { step: 'authorized', authorizationId: 'auth_1' }));
  await journal.close();
  const file = path.join(dir, JOURNAL_FILE);
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('"amountCents":6000', '"amountCents":9000'));
  await t.throwsAsync(KioskJournal.open(dir), { instanceOf: JournalCorruptError, message: /line 1 is damaged/ });
});

test('records that break an invariant are refused before they are written', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  t.teardown(() => journal.close());
  t.throws(() => void journal.record(record('w1', { plannedNotes: [2, 0] })), { message: /breaks an invariant/ });
  t.throws(() => void journal.record(record('w1', { step: 'dispensed', authorizationId: 'auth_1' })), { message: /breaks an invariant/ });
  t.throws(() => void journal.record(record('w1', { step: 'dispensed', authorizationId: 'auth_1', dispensedCents: 8_000 })), { message: /breaks an invariant/ });
});

test('compaction keeps only unfinished withdrawals', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  t.teardown(() => journal.close());
  for (let i = 0; i < 5; i++) {
    await journal.record(record(`done${i}`));
    await journal.record(record(`done${i}`, { step: 'settled', authorizationId: 'auth_x', dispensedCents: 6_000, outcome: 'completed' }));
  }
  await journal.record(record('open'));
  await journal.compact();
  const lines = (await readFile(path.join(dir, JOURNAL_FILE), 'utf8')).trim().split('\n');
  t.is(lines.length, 1);
  t.deepEqual(journal.unfinishedWithdrawals().map((r) => r.withdrawalId), ['open']);
  await journal.record(record('open', { step: 'authorized', authorizationId: 'auth_2' }));
  t.is(journal.withdrawal('open')?.step, 'authorized');
});

function deposit(journalId: string, changes: Partial<DepositRecord> = {}): DepositRecord {
  return {
    kind: 'deposit',
    journalId,
    step: 'open',
    accountId: 'acc_1',
    openRequestId: 'o'.repeat(32),
    commitRequestId: 'c'.repeat(32),
    depositId: `dep_${journalId}`,
    denominationsCents: [2_000, 5_000],
    remainingTodayCents: 500_000,
    stacked: [],
    updatedMs: 1,
    ...changes,
  };
}

test('deposits and withdrawals share the journal; the last record of each deposit is its state, across reopen', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  await journal.record(record('w1'));
  await journal.record(deposit('d1', { step: 'opening', depositId: undefined, denominationsCents: undefined }));
  await journal.record(deposit('d1'));
  await journal.record(deposit('d1', { stacking: { valueCents: 2_000, acceptCounterBefore: 41 } }));
  await journal.record(deposit('d1', { stacked: [{ denominationCents: 2_000, count: 1 }] }));
  await journal.record(deposit('d2', { step: 'declined', depositId: undefined, denominationsCents: undefined, outcome: 'declined', declineCode: 'NOT_SIGNED_IN' }));
  await journal.close();
  const reopened = await KioskJournal.open(dir);
  t.teardown(() => reopened.close());
  t.deepEqual(reopened.unfinishedDeposits().map((r) => [r.journalId, r.step, r.stacked, r.stacking]), [['d1', 'open', [{ denominationCents: 2_000, count: 1 }], undefined]]);
  t.deepEqual(reopened.unfinishedWithdrawals().map((r) => r.withdrawalId), ['w1']);
  t.is(reopened.pendingCount, 2);
});

test('deposit records that break an invariant are refused before they are written', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  t.teardown(() => journal.close());
  const refused = (r: DepositRecord, why: string) => t.throws(() => void journal.record(r), { message: /breaks an invariant/ }, why);
  refused(deposit('d1', { step: 'opening', depositId: undefined, stacked: [{ denominationCents: 2_000, count: 1 }] }), 'a note before the deposit is open');
  refused(deposit('d1', { stacked: [{ denominationCents: 1_000, count: 1 }] }), 'a note the acceptor was not enabled for');
  refused(deposit('d1', { stacked: [{ denominationCents: 5_000, count: 1 }, { denominationCents: 2_000, count: 1 }] }), 'denominations out of order');
  refused(deposit('d1', { stacked: [{ denominationCents: 2_000, count: 0 }] }), 'an empty count');
  refused(deposit('d1', { step: 'committing', stacking: { valueCents: 2_000 } }), 'a commit while a note is being stacked');
  refused(deposit('d1', { step: 'done', outcome: 'credited', creditedCents: 3_000, stacked: [{ denominationCents: 2_000, count: 1 }] }), 'a credit that is not the notes');
  refused(deposit('d1', { commitRequestId: 'o'.repeat(32) }), 'one request id for open and commit');
});

test('the cashbox counts every stacked note, including deposits still open, and keeps them through compaction and reopen', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  const twenty = (count: number) => ({ denominationCents: 2_000, count });
  await journal.record(deposit('d1', { step: 'done', outcome: 'credited', creditedCents: 6_000, stacked: [twenty(3)] }));
  await journal.record(deposit('d2', { stacked: [twenty(1), { denominationCents: 5_000, count: 1 }] }));
  await journal.recordStrayNote({ denominationCents: 5_000, count: 1 }, 2);
  const expected = [twenty(4), { denominationCents: 5_000, count: 2 }];
  t.deepEqual(journal.cashbox(), expected);
  await journal.compact();
  t.deepEqual(journal.cashbox(), expected, 'the finished deposit is folded into the cashbox record');
  t.is((await readFile(path.join(dir, JOURNAL_FILE), 'utf8')).trim().split('\n').length, 2, 'the cashbox and the open deposit');
  await journal.close();
  const reopened = await KioskJournal.open(dir);
  t.deepEqual(reopened.cashbox(), expected);
  // Emptied: counts start again from zero, the notes of the deposit still open included (they were in the box).
  await reopened.recordCashboxEmptied(3);
  t.deepEqual(reopened.cashbox(), []);
  await reopened.record(deposit('d2', { stacked: [twenty(2), { denominationCents: 5_000, count: 1 }] }));
  t.deepEqual(reopened.cashbox(), [twenty(1)], 'only the note stacked after the emptying');
  await reopened.compact();
  t.deepEqual(reopened.cashbox(), [twenty(1)]);
  await reopened.close();
});

test('a journal under its old name (withdrawals only) is adopted', async (t) => {
  const dir = await tempDir(t);
  const journal = await KioskJournal.open(dir);
  await journal.record(record('w1'));
  await journal.close();
  await rename(path.join(dir, JOURNAL_FILE), path.join(dir, LEGACY_JOURNAL_FILE));
  const reopened = await KioskJournal.open(dir);
  t.teardown(() => reopened.close());
  t.deepEqual(reopened.unfinishedWithdrawals().map((r) => r.withdrawalId), ['w1']);
  t.false(existsSync(path.join(dir, LEGACY_JOURNAL_FILE)));
});
