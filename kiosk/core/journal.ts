// The kiosk's durable journal: what it knows about each withdrawal and each deposit, and the notes in the
// note acceptor's cashbox, written to disk and fdatasync'd before the step it describes is taken, so that
// after a power loss the kiosk can finish exactly what it started: complete or reverse a withdrawal,
// credit a deposit for exactly the notes it stacked.
//
// Format: an append-only file of lines `<checksum> <json>\n`, where checksum is the first 16 hex digits
// of SHA-256 over the JSON text. Each line is the whole current record of one withdrawal, one deposit or
// the cashbox; the last line of a record's id is its state. Why a file and not LevelDB: one writer, a few
// lines per customer, and the one property we need (this line is on disk before the next step) is a
// single fdatasync we can see, with no background compaction that could be cut by the power loss we are
// guarding against.
//
// A torn last line (power lost mid-write) is expected and dropped: the step it described was not taken,
// because every step waits for its line's fdatasync. A bad line anywhere else is corruption and stops
// the kiosk (JournalCorruptError), because guessing would risk paying twice, crediting twice, or not
// settling a hold.
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { describe } from '../common/errors.js';
import { checkRecord } from './journal-checks.js';
import { encodeJournalLine, JournalCorruptError, parseJournalLines, syncDirectory } from './journal-lines.js';
import {
  addNotes,
  DEPOSIT_NOTES_MAX,
  JOURNAL_COMPACT_AT_BYTES,
  JOURNAL_FILE,
  JOURNAL_UNFINISHED_MAX,
  LEGACY_JOURNAL_FILE,
  FINAL_DEPOSIT_STEPS,
  FINAL_STEPS,
  subtractNotes,
  type CashboxRecord,
  type DepositRecord,
  type JournalRecord,
  type NoteTally,
  type WithdrawalRecord,
} from './journal-records.js';

export * from './journal-records.js';
export { JournalCorruptError, JOURNAL_LINE_BYTES_MAX } from './journal-lines.js';

const CHECKSUM_HEX_CHARS = 16;
const CASHBOX_KEY = 'cashbox';
const EMPTY_CASHBOX: CashboxRecord = { kind: 'cashbox', notes: [], counted: [], updatedMs: 0 };

function keyOf(record: JournalRecord): string {
  if (record.kind === 'deposit') return `deposit:${record.journalId}`;
  if (record.kind === 'cashbox') return CASHBOX_KEY;
  return `withdrawal:${record.withdrawalId}`;
}

function isFinished(record: JournalRecord): boolean {
  if (record.kind === 'deposit') return FINAL_DEPOSIT_STEPS.has(record.step);
  if (record.kind === 'cashbox') return false;
  return FINAL_STEPS.has(record.step);
}

export class KioskJournal {
  private readonly records = new Map<string, JournalRecord>();
  private sizeBytes = 0;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private handle: FileHandle,
  ) {}

  /** Opens (creating) the journal in `dir`, drops a torn last line, and loads every record. A journal
   *  left under its old name (withdrawals only) is renamed first. */
  static async open(dir: string): Promise<KioskJournal> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, JOURNAL_FILE);
    await adoptLegacyFile(dir, file);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const { records, goodBytes } = parseJournal(text, file);
    const handle = await open(file, 'a+', 0o600);
    if (goodBytes !== Buffer.byteLength(text, 'utf8')) {
      // Cut the torn tail so the next append starts on a line boundary.
      await handle.truncate(goodBytes);
      await handle.datasync();
    }
    if (text === '') await syncDirectory(dir);
    const journal = new KioskJournal(file, handle);
    for (const record of records) journal.records.set(keyOf(record), record);
    journal.sizeBytes = goodBytes;
    return journal;
  }

  withdrawal(withdrawalId: string): WithdrawalRecord | undefined {
    const record = this.records.get(`withdrawal:${withdrawalId}`);
    return record && record.kind !== 'deposit' && record.kind !== 'cashbox' ? record : undefined;
  }

  deposit(journalId: string): DepositRecord | undefined {
    const record = this.records.get(`deposit:${journalId}`);
    return record?.kind === 'deposit' ? record : undefined;
  }

  /** Withdrawals the kiosk started and has not settled or seen declined, oldest first. */
  unfinishedWithdrawals(): WithdrawalRecord[] {
    return [...this.records.values()].filter((r): r is WithdrawalRecord => r.kind !== 'deposit' && r.kind !== 'cashbox' && !isFinished(r));
  }

  /** Deposits the kiosk opened (or began to) and has not finished with the host, oldest first. */
  unfinishedDeposits(): DepositRecord[] {
    return [...this.records.values()].filter((r): r is DepositRecord => r.kind === 'deposit' && !isFinished(r));
  }

  /** Withdrawals and deposits the host has yet to hear the end of. */
  get pendingCount(): number {
    return [...this.records.values()].filter((r) => r.kind !== 'cashbox' && !isFinished(r)).length;
  }

  /** The notes in the cashbox: since it was last emptied, including deposits still in progress. */
  cashbox(): NoteTally[] {
    const base = this.cashboxRecord();
    let notes: NoteTally[] = [...base.notes];
    for (const record of this.records.values()) if (record.kind === 'deposit') notes = addNotes(notes, uncounted(base, record));
    return notes;
  }

  /** A note went into the cashbox outside any deposit (it should not: the acceptor is disabled then):
   *  counted, so the cashbox count stays the count of what is in it. */
  recordStrayNote(note: NoteTally, nowMs: number): Promise<void> {
    const base = this.cashboxRecord();
    return this.record({ ...base, notes: addNotes(base.notes, [note]), updatedMs: nowMs });
  }

  /** The cashbox was emptied: from now on it counts from zero (deposits in the journal included). */
  recordCashboxEmptied(nowMs: number): Promise<void> {
    const counted = [...this.records.values()].filter((r): r is DepositRecord => r.kind === 'deposit' && r.stacked.length > 0).map((r) => ({ journalId: r.journalId, notes: r.stacked }));
    return this.record({ kind: 'cashbox', notes: [], counted, emptiedMs: nowMs, updatedMs: nowMs });
  }

  /** Appends the record and resolves only once it is on disk. Writes are serialized. */
  record(record: JournalRecord): Promise<void> {
    checkRecord(record);
    const key = keyOf(record);
    const previous = this.records.get(key);
    if (!previous && record.kind !== 'cashbox') {
      const unfinished = record.kind === 'deposit' ? this.unfinishedDeposits().length : this.unfinishedWithdrawals().length;
      if (unfinished >= JOURNAL_UNFINISHED_MAX) {
        return Promise.reject(new Error(`journal: ${JOURNAL_UNFINISHED_MAX} ${record.kind === 'deposit' ? 'deposits' : 'withdrawals'} are already unfinished; recover them first`));
      }
    }
    const line = encodeLine(record);
    const write = this.writing.then(async () => {
      await this.handle.appendFile(line, { encoding: 'utf8' });
      await this.handle.datasync();
      this.sizeBytes += Buffer.byteLength(line, 'utf8');
      this.records.set(key, record);
      if (this.sizeBytes > JOURNAL_COMPACT_AT_BYTES) {
        try {
          await this.rewrite();
        } catch (error) {
          // The record is durable; a failed compaction only leaves the file longer. Kept for the
          // kiosk's diagnostics, and tried again at the next append.
          this.lastCompactionError = describe(error);
        }
      }
    });
    // The chain survives a failed write; the caller sees the failure through `write`. Compaction runs
    // inside the chain so that no append can reach a file handle being swapped.
    this.writing = write.catch(() => {});
    return write;
  }

  /** Why the last compaction failed, if it did. */
  lastCompactionError: string | undefined;

  /** Rewrites the file with only the unfinished records and the cashbox, finished deposits folded into
   *  it (write new, fsync, rename, fsync folder). */
  compact(): Promise<void> {
    const run = this.writing.then(() => this.rewrite());
    this.writing = run.catch(() => {});
    return run;
  }

  private cashboxRecord(): CashboxRecord {
    const record = this.records.get(CASHBOX_KEY);
    return record?.kind === 'cashbox' ? record : EMPTY_CASHBOX;
  }

  private async rewrite(): Promise<void> {
    const keep = [...this.records.values()].filter((r) => r.kind !== 'cashbox' && !isFinished(r));
    const base = this.cashboxRecord();
    let notes = [...base.notes];
    for (const record of this.records.values()) {
      if (record.kind === 'deposit' && isFinished(record)) notes = addNotes(notes, uncounted(base, record));
    }
    const keptIds = new Set(keep.filter((r): r is DepositRecord => r.kind === 'deposit').map((r) => r.journalId));
    const cashbox: CashboxRecord = { ...base, notes, counted: base.counted.filter((c) => keptIds.has(c.journalId)) };
    const all: JournalRecord[] = [...(notes.length > 0 || cashbox.emptiedMs !== undefined ? [cashbox] : []), ...keep];
    const text = all.map(encodeLine).join('');
    const temporary = `${this.file}.compact`;
    const out = await open(temporary, 'w', 0o600);
    try {
      await out.writeFile(text, { encoding: 'utf8' });
      await out.sync();
    } finally {
      await out.close();
    }
    await this.handle.close();
    await rename(temporary, this.file);
    await syncDirectory(path.dirname(this.file));
    this.handle = await open(this.file, 'a+', 0o600);
    this.records.clear();
    for (const record of all) this.records.set(keyOf(record), record);
    this.sizeBytes = Buffer.byteLength(text, 'utf8');
  }

  async close(): Promise<void> {
    await this.writing;
    await this.handle.close();
  }
}

/** The deposit's stacked notes the cashbox record does not already count. */
function uncounted(cashbox: CashboxRecord, deposit: DepositRecord): NoteTally[] {
  const counted = cashbox.counted.find((c) => c.journalId === deposit.journalId);
  return counted ? subtractNotes(deposit.stacked, counted.notes) : [...deposit.stacked];
}

async function adoptLegacyFile(dir: string, file: string): Promise<void> {
  const legacy = path.join(dir, LEGACY_JOURNAL_FILE);
  try {
    await rename(legacy, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await syncDirectory(dir);
}

const encodeLine = (record: JournalRecord): string => encodeJournalLine(record, 'journal');

/** The records of a journal's text, and how many of its bytes are whole lines (a torn last line is not). */
export function parseJournal(text: string, file: string): { records: JournalRecord[]; goodBytes: number } {
  return parseJournalLines(text, file, (json) => {
    checkRecord(json as JournalRecord);
    return json as JournalRecord;
  });
}
