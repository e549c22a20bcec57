// The kiosk journal: durable appends, a torn last line dropped, damage elsewhere refused, compaction.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { JOURNAL_FILE, JournalCorruptError, KioskJournal, type WithdrawalRecord } from '../../../kiosk/core/journal.js';

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
