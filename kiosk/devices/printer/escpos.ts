// The ESC/POS subset we send and the status bytes we read back. Pure, so the byte layout is tested
// without a port. Reference: Epson "ESC/POS Application Programming Guide" command list.

export const ESC = 0x1b;
export const GS = 0x1d;
export const DLE = 0x10;
export const EOT = 0x04;
export const LF = 0x0a;

/** ESC @: clears the print buffer and resets modes, so a half-sent earlier job cannot leak into ours. */
export const INITIALIZE = Uint8Array.of(ESC, 0x40);
/** ESC t 16: code page WPC1252, which equals Latin-1 for 0xA0..0xFF (French accents). */
export const SELECT_CODE_PAGE_1252 = Uint8Array.of(ESC, 0x74, 16);
/** ESC d n: print and feed n lines, so the last line clears the cutter. */
export function feedLines(count: number): Uint8Array {
  return Uint8Array.of(ESC, 0x64, Math.max(0, Math.min(255, count)));
}
/** GS V 66 0: feed to the cutting position and partial-cut (function B). */
export const CUT = Uint8Array.of(GS, 0x56, 66, 0);

/** DLE EOT n real-time status requests. */
export const STATUS_REQUEST = {
  printer: 1,
  offline: 2,
  error: 3,
  paperSensor: 4,
} as const;
export type StatusRequestKind = (typeof STATUS_REQUEST)[keyof typeof STATUS_REQUEST];

export function statusRequest(kind: StatusRequestKind): Uint8Array {
  return Uint8Array.of(DLE, EOT, kind);
}

/** Every DLE EOT answer has bit 1 and bit 4 set and bits 0 and 7 clear. */
const FIXED_MASK = 0x93;
const FIXED_VALUE = 0x12;
export function isStatusByte(byte: number): boolean {
  return (byte & FIXED_MASK) === FIXED_VALUE;
}

export const PRINTER_STATUS_OFFLINE_BIT = 0x08;
export const OFFLINE_COVER_OPEN_BIT = 0x04;
export const OFFLINE_PAPER_END_STOP_BIT = 0x20;
/** Paper roll sensor: bits 2 and 3 near-end, bits 5 and 6 paper end. */
export const PAPER_NEAR_END_BITS = 0x0c;
export const PAPER_END_BITS = 0x60;

export function parsePrinterStatus(byte: number): { online: boolean } {
  return { online: (byte & PRINTER_STATUS_OFFLINE_BIT) === 0 };
}

export function parsePaperStatus(byte: number): 'ok' | 'near-end' | 'out' {
  if ((byte & PAPER_END_BITS) !== 0) return 'out';
  if ((byte & PAPER_NEAR_END_BITS) !== 0) return 'near-end';
  return 'ok';
}

export const REPLACEMENT_CHAR = '?';

/**
 * One character the printer can print, as its code page 1252 byte. Only printable ASCII and Latin-1
 * letters/signs pass: a control byte in customer-visible text (a name, a memo) must never become an
 * ESC/POS command.
 */
export function printableByte(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if (code === 0x09) return 0x20;
  if (code >= 0x20 && code <= 0x7e) return code;
  // 0xAD is a soft hyphen: invisible on screen, printed or not depending on the model.
  if (code >= 0xa0 && code <= 0xff && code !== 0xad) return code;
  return REPLACEMENT_CHAR.charCodeAt(0);
}

/** Text made printable, as the string the printer will show (for wrapping and tests). */
export function toPrintableText(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) out += String.fromCharCode(printableByte(char));
  return out;
}

/**
 * Lines wrapped at `widthChars`, breaking at the last space when there is one so words stay whole.
 * Throws when the result has more than `maxLines` lines.
 */
export function layoutReceipt(lines: readonly string[], widthChars: number, maxLines: number): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let rest = toPrintableText(line).replace(/\s+$/, '');
    if (rest.length === 0) out.push('');
    while (rest.length > 0) {
      if (rest.length <= widthChars) {
        out.push(rest);
        break;
      }
      const space = rest.lastIndexOf(' ', widthChars);
      const cut = space > 0 ? space : widthChars;
      out.push(rest.slice(0, cut).replace(/\s+$/, ''));
      rest = rest.slice(cut).replace(/^ +/, '');
    }
    if (out.length > maxLines) throw new RangeError(`receipt exceeds ${maxLines} lines`);
  }
  return out;
}

/** The bytes of one text line: Latin-1 bytes then LF. `line` must come from layoutReceipt. */
export function encodeLine(line: string): Uint8Array {
  const bytes = new Uint8Array(line.length + 1);
  for (let i = 0; i < line.length; i++) bytes[i] = printableByte(line[i] ?? REPLACEMENT_CHAR);
  bytes[line.length] = LF;
  return bytes;
}
