// The line format of the kiosk's durable journals (journal.ts for withdrawals, deposits and the cashbox;
// replenishment/replenishment-journal.ts for a technician's replenishment): `<checksum> <json>\n`, the
// checksum the first 16 hex digits of SHA-256 over the JSON text. A torn last line (power lost mid-write)
// is dropped: the step it announced was not taken, because every step waits for its line's fdatasync. A
// bad line anywhere else is corruption (JournalCorruptError): a technician must look.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { KioskError } from '../common/errors.js';

/** One record is a few hundred bytes; a longer line is not ours. */
export const JOURNAL_LINE_BYTES_MAX = 4_096;
const CHECKSUM_HEX_CHARS = 16;

export class JournalCorruptError extends KioskError<'JOURNAL_CORRUPT'> {
  constructor(message: string) {
    super('JOURNAL_CORRUPT', message);
    this.name = 'JournalCorruptError';
  }
}

function checksum(json: string): string {
  return createHash('sha256').update(json, 'utf8').digest('hex').slice(0, CHECKSUM_HEX_CHARS);
}

/** The line of a record; `what` names the journal in the error for an oversized one. */
export function encodeJournalLine(record: unknown, what: string): string {
  const json = JSON.stringify(record);
  const line = `${checksum(json)} ${json}\n`;
  if (Buffer.byteLength(line, 'utf8') > JOURNAL_LINE_BYTES_MAX) throw new Error(`${what}: a record of ${line.length} bytes exceeds ${JOURNAL_LINE_BYTES_MAX}`);
  return line;
}

/** Parses a whole journal; `decode` checks each record's invariants (throwing when one is broken). Returns
 *  the records and the byte length of the good prefix (the caller cuts a torn tail). */
export function parseJournalLines<R>(text: string, file: string, decode: (json: unknown) => R): { records: R[]; goodBytes: number } {
  const records: R[] = [];
  let offset = 0;
  let lineNumber = 0;
  while (offset < text.length) {
    lineNumber++;
    const end = text.indexOf('\n', offset);
    const isLast = end === -1 || end === text.length - 1;
    const record = end === -1 ? undefined : decodeLine(text.slice(offset, end), decode);
    if (record === undefined) {
      if (isLast) break; // torn by a power loss mid-write: the step it announced never ran
      throw new JournalCorruptError(`${file}: line ${lineNumber} is damaged (bad checksum or format) and is not the last line; a technician must inspect the journal`);
    }
    records.push(record);
    offset = end + 1;
  }
  return { records, goodBytes: Buffer.byteLength(text.slice(0, offset), 'utf8') };
}

function decodeLine<R>(line: string, decode: (json: unknown) => R): R | undefined {
  const space = line.indexOf(' ');
  if (space !== CHECKSUM_HEX_CHARS) return undefined;
  const json = line.slice(space + 1);
  if (checksum(json) !== line.slice(0, space)) return undefined;
  try {
    return decode(JSON.parse(json));
  } catch {
    return undefined;
  }
}

/** A new or renamed file is durable only once its folder entry is. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
