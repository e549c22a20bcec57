import test from 'ava';
import {
  CUT,
  INITIALIZE,
  encodeLine,
  isStatusByte,
  layoutReceipt,
  parsePaperStatus,
  parsePrinterStatus,
  statusRequest,
  toPrintableText,
} from '../../../kiosk/devices/printer/escpos.js';
import { EscPosParser, type EscPosEvent } from '../../../kiosk/devices/printer/escpos-parser.js';

function lines(events: EscPosEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'line' ? [e.text] : []));
}

test('text keeps ASCII and Latin-1 and replaces everything else', (t) => {
  t.is(toPrintableText('Retrait: 60,00 $ — café'), 'Retrait: 60,00 $ ? café');
  t.is(toPrintableText('e\u0301'), 'é', 'decomposed accents are composed first');
  t.is(toPrintableText('a\x1b@b\x1dV\x00c\td'), 'a?@b?V?c d', 'control bytes never reach the printer');
  t.is(toPrintableText('😀€'), '??', 'astral and non-Latin-1 characters become one ? each');
  t.deepEqual([...encodeLine('é!')], [0xe9, 0x21, 0x0a]);
});

test('lines wrap at the paper width, at a space when there is one', (t) => {
  t.deepEqual(layoutReceipt(['aaaa bbbb cccc'], 9, 10), ['aaaa bbbb', 'cccc']);
  t.deepEqual(layoutReceipt(['abcdefghijkl'], 5, 10), ['abcde', 'fghij', 'kl']);
  t.deepEqual(layoutReceipt(['', 'x  '], 5, 10), ['', 'x']);
  for (const line of layoutReceipt(['word '.repeat(40)], 42, 10)) t.true(line.length <= 42);
  t.throws(() => layoutReceipt(['x'.repeat(100)], 10, 5), { instanceOf: RangeError });
});

test('status bytes parse paper-end and near-end bits and reject bytes without the fixed bits', (t) => {
  t.deepEqual(parsePrinterStatus(0x12), { online: true });
  t.deepEqual(parsePrinterStatus(0x1a), { online: false });
  t.is(parsePaperStatus(0x12), 'ok');
  t.is(parsePaperStatus(0x1e), 'near-end');
  t.is(parsePaperStatus(0x7e), 'out');
  t.true(isStatusByte(0x12));
  for (const byte of [0x00, 0xff, 0x41, 0x13, 0x92]) t.false(isStatusByte(byte), `0x${byte.toString(16)}`);
  t.deepEqual([...statusRequest(4)], [0x10, 0x04, 0x04]);
});

test('the parser reads text, lines, cuts and status requests', (t) => {
  const parser = new EscPosParser({ widthChars: 42 });
  const events = parser.push(Uint8Array.from([...INITIALIZE, ...encodeLine('hello'), ...statusRequest(1), ...encodeLine('é'), ...CUT]));
  t.deepEqual(events, [
    { kind: 'initialize' },
    { kind: 'line', text: 'hello' },
    { kind: 'status-request', n: 1 },
    { kind: 'line', text: 'é' },
    { kind: 'cut' },
  ]);
});

test('the parser skips other commands by their length, also when split across chunks', (t) => {
  const bytes = Uint8Array.from([
    0x1b, 0x21, 0x30, // ESC ! n: print mode; 0x30 must not print as "0"
    0x41,
    0x1d, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0x41, 0x42, 0x43, 0x44, // GS v 0 raster 2x2
    0x42,
    0x1d, 0x6b, 0x04, 0x31, 0x32, 0x00, // GS k 4 "12" NUL: barcode
    0x1d, 0x28, 0x4b, 0x02, 0x00, 0x30, 0x31, // GS ( K pL pH data
    0x1b, 0x7e, // unknown ESC ~: only the command byte is skipped
    0x43, 0x0d, 0x0a,
    0x1d, 0x56, 0x00, // GS V 0: full cut
  ]);
  const whole = new EscPosParser({ widthChars: 42 }).push(bytes);
  t.deepEqual(lines(whole), ['ABC']);
  t.is(whole.at(-1)?.kind, 'cut');
  const split = new EscPosParser({ widthChars: 42 });
  const events = [...bytes].flatMap((b) => split.push(Uint8Array.of(b)));
  t.deepEqual(events, whole);
  t.is(split.unknownCommands, 1);
});

test('the parser wraps text longer than the paper like a printer does', (t) => {
  const parser = new EscPosParser({ widthChars: 4 });
  t.deepEqual(lines(parser.push(new TextEncoder().encode('abcdefgh\nij\n'))), ['abcd', 'efgh', 'ij']);
});
