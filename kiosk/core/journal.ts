// The kiosk's durable withdrawal journal: what it knows about each withdrawal, written to disk and
// fdatasync'd before the step it describes is taken, so that after a power loss the kiosk can finish
// (complete or reverse) exactly what it started.
//
// Format: an append-only file of lines `<checksum> <json>\n`, where checksum is the first 16 hex digits
// of SHA-256 over the JSON text. Each line is the whole current record of one withdrawal; the last line
// of a withdrawal id is its state. Why a file and not LevelDB: one writer, a few lines per customer, and
// the one property we need (this line is on disk before the next step) is a single fdatasync we can see,
// with no background compaction that could be cut by the power loss we are guarding against.
//
// A torn last line (power lost mid-write) is expected and dropped: the step it described was not taken,
// because every step waits for its line's fdatasync. A bad line anywhere else is corruption and stops
// the kiosk (JournalCorruptError), because guessing would risk paying twice or not settling a hold.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { describe, KioskError } from '../common/errors.js';

export const JOURNAL_FILE = 'withdrawals.journal';
/** One record is a few hundred bytes; a longer line is not ours. */
export const JOURNAL_LINE_BYTES_MAX = 4_096;
/** Rewrite the file with only unfinished withdrawals once it grows past this. */
export const JOURNAL_COMPACT_AT_BYTES = 256 * 1_024;
/** A kiosk runs one withdrawal at a time; more unfinished ones than this means something loops. */
export const JOURNAL_UNFINISHED_MAX = 16;
const CHECKSUM_HEX_CHARS = 16;

/**
 * Steps, in order. Each is written BEFORE the action that follows it:
 *  - `authorizing`: about to send withdraw.authorize with `authorizeRequestId`.
 *  - `authorized`:  the host placed a hold (`authorizationId`); nothing dispensed yet.
 *  - `dispensing`:  about to send DISPENSE with `transactionId`; notes may move from here on.
 *  - `dispensed`:   the dispenser reported `dispensedNotes`; about to complete (or reverse if none).
 *  - `settled`:     the host answered the completion or reversal; nothing left to do.
 *  - `declined`:    the host refused the authorization (or never received it); nothing held.
 */
export type WithdrawalStep = 'authorizing' | 'authorized' | 'dispensing' | 'dispensed' | 'settled' | 'declined';
export const FINAL_STEPS: ReadonlySet<WithdrawalStep> = new Set(['settled', 'declined']);

export interface WithdrawalRecord {
  readonly withdrawalId: string;
  readonly step: WithdrawalStep;
  readonly accountId: string;
  readonly amountCents: number;
  /** Notes per cassette planned for this amount, and the denominations they were planned from. */
  readonly plannedNotes: readonly number[];
  readonly denominationsCents: readonly number[];
  /** The dispenser's transaction id: how the kiosk asks the device what it did after a crash. */
  readonly transactionId: number;
  readonly authorizeRequestId: string;
  /** Used for the one completion OR reversal, so a retry after a crash cannot settle twice. */
  readonly settleRequestId: string;
  readonly authorizationId?: string;
  readonly dispensedNotes?: readonly number[];
  readonly dispensedCents?: number;
  readonly postedCents?: number;
  readonly outcome?: 'completed' | 'reversed' | 'declined';
  readonly declineCode?: string;
  readonly updatedMs: number;
}

export class JournalCorruptError extends KioskError<'JOURNAL_CORRUPT'> {
  constructor(message: string) {
    super('JOURNAL_CORRUPT', message);
    this.name = 'JournalCorruptError';
  }
}

export class WithdrawalJournal {
  private readonly records = new Map<string, WithdrawalRecord>();
  private sizeBytes = 0;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private handle: FileHandle,
  ) {}

  /** Opens (creating) the journal in `dir`, drops a torn last line, and loads every record. */
  static async open(dir: string): Promise<WithdrawalJournal> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, JOURNAL_FILE);
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
    const journal = new WithdrawalJournal(file, handle);
    for (const record of records) journal.records.set(record.withdrawalId, record);
    journal.sizeBytes = goodBytes;
    return journal;
  }

  get(withdrawalId: string): WithdrawalRecord | undefined {
    return this.records.get(withdrawalId);
  }

  /** Withdrawals the kiosk started and has not settled or seen declined, oldest first. */
  unfinished(): WithdrawalRecord[] {
    return [...this.records.values()].filter((r) => !FINAL_STEPS.has(r.step));
  }

  /** Appends the record and resolves only once it is on disk. Writes are serialized. */
  record(record: WithdrawalRecord): Promise<void> {
    checkRecord(record);
    const previous = this.records.get(record.withdrawalId);
    if (!previous && this.unfinished().length >= JOURNAL_UNFINISHED_MAX) {
      return Promise.reject(new Error(`journal: ${JOURNAL_UNFINISHED_MAX} withdrawals are already unfinished; recover them first`));
    }
    const line = encodeLine(record);
    const write = this.writing.then(async () => {
      await this.handle.appendFile(line, { encoding: 'utf8' });
      await this.handle.datasync();
      this.sizeBytes += Buffer.byteLength(line, 'utf8');
      this.records.set(record.withdrawalId, record);
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

  /** Rewrites the file with only the unfinished records (write new, fsync, rename, fsync folder). */
  compact(): Promise<void> {
    const run = this.writing.then(() => this.rewrite());
    this.writing = run.catch(() => {});
    return run;
  }

  private async rewrite(): Promise<void> {
    const keep = this.unfinished();
    const text = keep.map(encodeLine).join('');
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
    for (const record of keep) this.records.set(record.withdrawalId, record);
    this.sizeBytes = Buffer.byteLength(text, 'utf8');
  }

  async close(): Promise<void> {
    await this.writing;
    await this.handle.close();
  }
}

function encodeLine(record: WithdrawalRecord): string {
  const json = JSON.stringify(record);
  const line = `${checksum(json)} ${json}\n`;
  if (Buffer.byteLength(line, 'utf8') > JOURNAL_LINE_BYTES_MAX) throw new Error(`journal: a record of ${line.length} bytes exceeds ${JOURNAL_LINE_BYTES_MAX}`);
  return line;
}

function checksum(json: string): string {
  return createHash('sha256').update(json, 'utf8').digest('hex').slice(0, CHECKSUM_HEX_CHARS);
}

/** Parses the whole journal; returns the records and the byte length of the good prefix. */
export function parseJournal(text: string, file: string): { records: WithdrawalRecord[]; goodBytes: number } {
  const records: WithdrawalRecord[] = [];
  let offset = 0;
  let lineNumber = 0;
  while (offset < text.length) {
    lineNumber++;
    const end = text.indexOf('\n', offset);
    const isLast = end === -1 || end === text.length - 1;
    const line = end === -1 ? text.slice(offset) : text.slice(offset, end);
    const record = end === -1 ? undefined : decodeLine(line);
    if (record === undefined) {
      if (isLast) break; // torn by a power loss mid-write: the step it announced never ran
      throw new JournalCorruptError(`${file}: line ${lineNumber} is damaged (bad checksum or format) and is not the last line; a technician must inspect the journal`);
    }
    records.push(record);
    offset = end + 1;
  }
  return { records, goodBytes: Buffer.byteLength(text.slice(0, offset), 'utf8') };
}

function decodeLine(line: string): WithdrawalRecord | undefined {
  const space = line.indexOf(' ');
  if (space !== CHECKSUM_HEX_CHARS) return undefined;
  const json = line.slice(space + 1);
  if (checksum(json) !== line.slice(0, space)) return undefined;
  try {
    const record = JSON.parse(json) as WithdrawalRecord;
    checkRecord(record);
    return record;
  } catch {
    return undefined;
  }
}

const STEPS: readonly WithdrawalStep[] = ['authorizing', 'authorized', 'dispensing', 'dispensed', 'settled', 'declined'];

/** Checked before writing and after reading: money moves on these fields. */
function checkRecord(record: WithdrawalRecord): void {
  const ok =
    typeof record.withdrawalId === 'string' &&
    record.withdrawalId.length > 0 &&
    STEPS.includes(record.step) &&
    Number.isSafeInteger(record.amountCents) &&
    record.amountCents > 0 &&
    Array.isArray(record.plannedNotes) &&
    Array.isArray(record.denominationsCents) &&
    record.plannedNotes.length === record.denominationsCents.length &&
    record.plannedNotes.reduce((sum, n, i) => sum + n * (record.denominationsCents[i] ?? 0), 0) === record.amountCents &&
    Number.isSafeInteger(record.transactionId) &&
    record.transactionId > 0 &&
    (record.dispensedCents === undefined || (Number.isSafeInteger(record.dispensedCents) && record.dispensedCents >= 0 && record.dispensedCents <= record.amountCents)) &&
    ((record.step !== 'authorized' && record.step !== 'dispensing' && record.step !== 'dispensed') || typeof record.authorizationId === 'string') &&
    (record.step !== 'dispensed' || record.dispensedCents !== undefined);
  if (!ok) throw new Error(`journal: withdrawal record ${String(record.withdrawalId)} at step ${String(record.step)} breaks an invariant`);
}

async function syncDirectory(dir: string): Promise<void> {
  // A new or renamed file is durable only once its folder entry is.
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
