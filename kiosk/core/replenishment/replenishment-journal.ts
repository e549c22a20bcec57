// The kiosk's journal of a technician's replenishment: which replenishment is open, what the host answered of
// each container's count, what was loaded, and the step in flight. Each step is written here (fdatasync'd)
// before its request goes to the host, and again once the host answered and the kiosk's own counts (the
// dispenser's cassettes, the journal's cashbox) were set, so that after a power loss the kiosk finishes
// exactly the step it started: the same request id again (the host answers it once), the same counts set
// again (setting is idempotent). Its own file beside the kiosk's journal (journal.ts), in the same line
// format (journal-lines.ts); the last line is the state, and a kiosk has at most one replenishment open.
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeJournalLine, parseJournalLines, syncDirectory } from '../journal-lines.js';
import type { NoteTally } from '../journal.js';

export const REPLENISHMENT_JOURNAL_FILE = 'replenishment.journal';
/** A closed replenishment's file is started afresh on the next open past this size. */
const REWRITE_AT_BYTES = 64 * 1_024;
/** Denominations a container may be counted in (the protocol's bound). */
const DENOMINATIONS_MAX = 16;
/** Notes of one denomination a container may hold (the protocol's bound). */
export const CONTAINER_NOTES_MAX = 100_000;

export type ReplenishmentStep = 'unload-cassettes' | 'unload-cashbox' | 'load-cassettes' | 'close';

export interface ContainerBalanceRecord {
  readonly container: 'cassettes' | 'cashbox';
  readonly countedCents: number;
  readonly ledgerCents: number;
  readonly differenceCents: number;
}

export interface ReplenishmentJournalRecord {
  readonly kind: 'replenishment';
  readonly replenishmentId: string;
  /** The technician's name, for the screens and the receipt. */
  readonly technician: string;
  readonly openedMs: number;
  readonly cassetteDenominationsCents: readonly number[];
  readonly cashboxDenominationsCents: readonly number[];
  /** What the host answered of each container's count. */
  readonly unloaded: readonly ContainerBalanceRecord[];
  readonly loaded?: { readonly notes: readonly NoteTally[]; readonly loadedCents: number };
  /** The step sent (or about to be) with this request id; cleared once its answer and its local effect are
   *  both done. */
  readonly pending?: { readonly step: ReplenishmentStep; readonly notes: readonly NoteTally[]; readonly requestId: string };
  readonly closed?: { readonly closedMs: number; readonly balanced: boolean; readonly loadedCents: number };
  readonly updatedMs: number;
}

const STEPS: readonly ReplenishmentStep[] = ['unload-cassettes', 'unload-cashbox', 'load-cassettes', 'close'];

function validNotes(notes: unknown, denominations: readonly number[]): boolean {
  if (!Array.isArray(notes) || notes.length > DENOMINATIONS_MAX) return false;
  const seen = new Set<number>();
  return (notes as NoteTally[]).every((n) => {
    const ok = denominations.includes(n?.denominationCents) && !seen.has(n.denominationCents) && Number.isSafeInteger(n.count) && n.count >= 0 && n.count <= CONTAINER_NOTES_MAX;
    seen.add(n?.denominationCents);
    return ok;
  });
}

/** Checked before writing and after reading: money moves on these fields. */
export function checkReplenishmentRecord(record: ReplenishmentJournalRecord): void {
  const denominationsOk = (list: unknown) => Array.isArray(list) && list.length <= DENOMINATIONS_MAX && list.every((d) => Number.isSafeInteger(d) && d > 0);
  const pending = record.pending;
  const ok =
    record.kind === 'replenishment' &&
    typeof record.replenishmentId === 'string' &&
    /^[A-Za-z0-9_-]{1,64}$/.test(record.replenishmentId) &&
    typeof record.technician === 'string' &&
    denominationsOk(record.cassetteDenominationsCents) &&
    denominationsOk(record.cashboxDenominationsCents) &&
    Array.isArray(record.unloaded) &&
    record.unloaded.length <= 2 &&
    record.unloaded.every((u) => (u.container === 'cassettes' || u.container === 'cashbox') && Number.isSafeInteger(u.countedCents) && u.countedCents >= 0 && u.differenceCents === u.countedCents - u.ledgerCents) &&
    new Set(record.unloaded.map((u) => u.container)).size === record.unloaded.length &&
    (record.loaded === undefined || (validNotes(record.loaded.notes, record.cassetteDenominationsCents) && record.loaded.loadedCents === record.loaded.notes.reduce((s, n) => s + n.denominationCents * n.count, 0))) &&
    (pending === undefined ||
      (STEPS.includes(pending.step) &&
        typeof pending.requestId === 'string' &&
        /^[0-9a-f]{32}$/.test(pending.requestId) &&
        validNotes(pending.notes, pending.step === 'unload-cashbox' ? record.cashboxDenominationsCents : record.cassetteDenominationsCents))) &&
    // New cassettes go in only after the old ones came out, and a closed replenishment has nothing in flight.
    (record.loaded === undefined || record.unloaded.some((u) => u.container === 'cassettes')) &&
    (record.closed === undefined || pending === undefined);
  if (!ok) throw new Error(`replenishment journal: record ${String(record.replenishmentId)} breaks an invariant`);
}

export class ReplenishmentJournal {
  private last: ReplenishmentJournalRecord | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private handle: FileHandle,
  ) {}

  static async open(dir: string): Promise<ReplenishmentJournal> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, REPLENISHMENT_JOURNAL_FILE);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const { records, goodBytes } = parseJournalLines(text, file, (json) => {
      checkReplenishmentRecord(json as ReplenishmentJournalRecord);
      return json as ReplenishmentJournalRecord;
    });
    const last = records.at(-1);
    const handle = await open(file, 'a+', 0o600);
    // A torn tail is cut; a closed replenishment's long history is dropped (the host keeps its record).
    const fresh = last?.closed !== undefined && goodBytes > REWRITE_AT_BYTES;
    if (fresh || goodBytes !== Buffer.byteLength(text, 'utf8')) {
      await handle.truncate(fresh ? 0 : goodBytes);
      await handle.datasync();
    }
    if (text === '') await syncDirectory(dir);
    const journal = new ReplenishmentJournal(file, handle);
    journal.last = last;
    return journal;
  }

  /** The replenishment open at this kiosk, if any (the last one, when not closed). */
  get open(): ReplenishmentJournalRecord | undefined {
    return this.last?.closed === undefined ? this.last : undefined;
  }

  /** The last replenishment, closed or not. */
  get latest(): ReplenishmentJournalRecord | undefined {
    return this.last;
  }

  /** Appends the record and resolves once it is on disk. Writes are serialized. */
  record(record: ReplenishmentJournalRecord): Promise<void> {
    checkReplenishmentRecord(record);
    const line = encodeJournalLine(record, 'replenishment journal');
    const write = this.writing.then(async () => {
      await this.handle.appendFile(line, { encoding: 'utf8' });
      await this.handle.datasync();
      this.last = record;
    });
    this.writing = write.catch(() => {});
    return write;
  }

  async close(): Promise<void> {
    await this.writing;
    await this.handle.close();
  }
}
