// The ccTalk link layer and data fields of the note acceptor, on known bytes. The frames here are the
// worked examples of docs/devices.md "Note acceptor (ccTalk)".
import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  CcTalkFrameReader,
  MAX_DATA_BYTES,
  decodeFrame,
  encodeFrame,
  simpleChecksum,
  toHex,
  type CcTalkFrame,
  type FrameRejection,
} from '../../../kiosk/devices/note-acceptor/cctalk-frame.js';
import {
  HEADER,
  MessageFormatError,
  billValueCents,
  decodeAcceptCounter,
  decodeBillId,
  decodeEventBuffer,
  decodeInhibitMask,
  decodeScalingFactor,
  decodeSerialNumber,
  encodeAcceptCounter,
  encodeAscii,
  encodeInhibitMask,
} from '../../../kiosk/devices/note-acceptor/headers.js';

const hostToValidator = (header: number, data: number[] = []): CcTalkFrame => ({ destination: 40, source: 1, header, data: Uint8Array.from(data) });
const validatorToHost = (data: number[] | Uint8Array = [], header = 0): CcTalkFrame => ({ destination: 1, source: 40, header, data: Uint8Array.from(data) });

/** [what, frame, its bytes] — the table in docs/devices.md. */
const KNOWN_ANSWERS: [string, CcTalkFrame, string][] = [
  ['simple poll', hostToValidator(HEADER.SIMPLE_POLL), '28 00 01 fe d9'],
  ['ACK', validatorToHost(), '01 00 28 00 d7'],
  ['NAK', validatorToHost([], HEADER.NAK), '01 00 28 05 d2'],
  ['request equipment category', hostToValidator(HEADER.REQUEST_EQUIPMENT_CATEGORY_ID), '28 00 01 f5 e2'],
  ['"Bill Validator"', validatorToHost(encodeAscii('Bill Validator')), '01 0e 28 00 42 69 6c 6c 20 56 61 6c 69 64 61 74 6f 72 80'],
  ['request manufacturer id', hostToValidator(HEADER.REQUEST_MANUFACTURER_ID), '28 00 01 f6 e1'],
  ['"SIM"', validatorToHost(encodeAscii('SIM')), '01 03 28 00 53 49 4d eb'],
  ['request product code', hostToValidator(HEADER.REQUEST_PRODUCT_CODE), '28 00 01 f4 e3'],
  ['request serial number', hostToValidator(HEADER.REQUEST_SERIAL_NUMBER), '28 00 01 f2 e5'],
  ['serial number 0x123456', validatorToHost([0x56, 0x34, 0x12]), '01 03 28 00 56 34 12 38'],
  ['request software revision', hostToValidator(HEADER.REQUEST_SOFTWARE_REVISION), '28 00 01 f1 e6'],
  ['comms revision request', hostToValidator(HEADER.REQUEST_COMMS_REVISION), '28 00 01 04 d3'],
  ['comms revision 1.4.6', validatorToHost([1, 4, 6]), '01 03 28 00 01 04 06 c9'],
  ['reset device', hostToValidator(HEADER.RESET_DEVICE), '28 00 01 01 d6'],
  ['modify inhibits: bill types 2, 3, 4', hostToValidator(HEADER.MODIFY_INHIBIT_STATUS, [0x0e, 0x00]), '28 02 01 e7 0e 00 e0'],
  ['request inhibit status', hostToValidator(HEADER.REQUEST_INHIBIT_STATUS), '28 00 01 e6 f1'],
  ['inhibit status: bill types 2, 3, 4', validatorToHost([0x0e, 0x00]), '01 02 28 00 0e 00 c7'],
  ['request master inhibit status', hostToValidator(HEADER.REQUEST_MASTER_INHIBIT_STATUS), '28 00 01 e3 f4'],
  ['master inhibit status: enabled', validatorToHost([1]), '01 01 28 00 01 d5'],
  ['master inhibit off (enabled)', hostToValidator(HEADER.MODIFY_MASTER_INHIBIT_STATUS, [1]), '28 01 01 e4 01 f1'],
  ['master inhibit on (disabled)', hostToValidator(HEADER.MODIFY_MASTER_INHIBIT_STATUS, [0]), '28 01 01 e4 00 f2'],
  ['operating mode: stacker + escrow', hostToValidator(HEADER.MODIFY_BILL_OPERATING_MODE, [3]), '28 01 01 99 03 3a'],
  ['request bill operating mode', hostToValidator(HEADER.REQUEST_BILL_OPERATING_MODE), '28 00 01 98 3f'],
  ['bill operating mode: stacker + escrow', validatorToHost([3]), '01 01 28 00 03 d3'],
  ['request bill id of type 3', hostToValidator(HEADER.REQUEST_BILL_ID, [3]), '28 01 01 9d 03 36'],
  ['"CA0020A"', validatorToHost(encodeAscii('CA0020A')), '01 07 28 00 43 41 30 30 32 30 41 49'],
  ['request scaling of "CA"', hostToValidator(HEADER.REQUEST_COUNTRY_SCALING_FACTOR, [0x43, 0x41]), '28 02 01 9c 43 41 b5'],
  ['scaling 100, 2 decimal places', validatorToHost([100, 0, 2]), '01 03 28 00 64 00 02 6e'],
  ['read buffered bill events', hostToValidator(HEADER.READ_BUFFERED_BILL_EVENTS), '28 00 01 9f 38'],
  ['events: counter 2, type 3 stacked, type 3 in escrow', validatorToHost([2, 3, 0, 3, 1, 0, 0, 0, 0, 0, 0]), '01 0b 28 00 02 03 00 03 01 00 00 00 00 00 00 c3'],
  ['route: stack', hostToValidator(HEADER.ROUTE_BILL, [1]), '28 01 01 9a 01 3b'],
  ['route: return', hostToValidator(HEADER.ROUTE_BILL, [0]), '28 01 01 9a 00 3c'],
  ['route: extend escrow', hostToValidator(HEADER.ROUTE_BILL, [255]), '28 01 01 9a ff 3d'],
  ['route error: escrow empty', validatorToHost([254]), '01 01 28 00 fe d8'],
  ['route error: failed to route', validatorToHost([255]), '01 01 28 00 ff d7'],
  ['request accept counter', hostToValidator(HEADER.REQUEST_ACCEPT_COUNTER), '28 00 01 e1 f6'],
  ['accept counter 1234', validatorToHost([0xd2, 0x04, 0x00]), '01 03 28 00 d2 04 00 fe'],
  ['accept counter 1235', validatorToHost([0xd3, 0x04, 0x00]), '01 03 28 00 d3 04 00 fd'],
  ['accept counter 16777215, the last before the wrap', validatorToHost([0xff, 0xff, 0xff]), '01 03 28 00 ff ff ff d7'],
  ['accept counter 0', validatorToHost([0, 0, 0]), '01 03 28 00 00 00 00 d4'],
];

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.split(' ').map((h) => parseInt(h, 16)));
}

for (const [what, frame, hex] of KNOWN_ANSWERS) {
  test(`known answer: ${what} is ${hex}`, (t) => {
    const bytes = encodeFrame(frame);
    t.is(toHex(bytes), hex);
    t.is(bytes.reduce((sum, b) => (sum + b) & 0xff, 0), 0, 'every byte of a frame sums to 0 mod 256');
    const decoded = decodeFrame(bytes);
    t.deepEqual(decoded, { ok: true, frame: { ...frame, data: Uint8Array.from(frame.data) } });
  });
}

test('every frame docs/devices.md shows for the note acceptor is one of these known answers', (t) => {
  const docs = readFileSync(new URL('../../../docs/devices.md', import.meta.url), 'utf8');
  const start = docs.indexOf('## Note acceptor (ccTalk)');
  // The section runs to the next level-2 heading (the encrypting PIN pad's frames follow it).
  const next = docs.indexOf('\n## ', start + 1);
  const section = docs.slice(start, next === -1 ? undefined : next);
  const shown = [...section.matchAll(/`((?:[0-9A-Fa-f]{2} )+[0-9A-Fa-f]{2})`/g)].map((m) => (m[1] ?? '').toLowerCase());
  t.true(shown.length >= 30, `${shown.length} frames found in the docs`);
  const known = new Set(KNOWN_ANSWERS.map(([, , hex]) => hex));
  for (const hex of shown) t.true(known.has(hex), `docs show ${hex}, which no known-answer test checks`);
});

test('the checksum is the byte that makes the sum 0 mod 256, worked by hand for a simple poll', (t) => {
  // 40 + 0 + 1 + 254 = 295; 295 mod 256 = 39; 256 - 39 = 217 = 0xd9.
  t.is(simpleChecksum(Uint8Array.of(40, 0, 1, 254)), 0xd9);
  t.is(simpleChecksum(Uint8Array.of(0, 0, 0, 0)), 0, 'a sum already 0 needs checksum 0, not 256');
});

test('encodeFrame refuses out-of-range fields and more than 252 data bytes', (t) => {
  t.throws(() => encodeFrame({ destination: 256, source: 1, header: 0, data: new Uint8Array(0) }), { instanceOf: RangeError });
  t.throws(() => encodeFrame({ destination: 40, source: -1, header: 0, data: new Uint8Array(0) }), { instanceOf: RangeError });
  t.throws(() => encodeFrame({ destination: 40, source: 1, header: 1.5, data: new Uint8Array(0) }), { instanceOf: RangeError });
  t.throws(() => encodeFrame({ destination: 40, source: 1, header: 0, data: new Uint8Array(MAX_DATA_BYTES + 1) }), { instanceOf: RangeError });
  t.is(encodeFrame({ destination: 40, source: 1, header: 0, data: new Uint8Array(MAX_DATA_BYTES) }).length, MAX_DATA_BYTES + 5);
});

function hostReader(options: { lineEchoes?: boolean; interByteGapMs?: number } = {}) {
  const frames: CcTalkFrame[] = [];
  const rejected: FrameRejection[] = [];
  const reader = new CcTalkFrameReader(
    { ownAddress: 1, peerAddress: 40, lineEchoes: options.lineEchoes ?? false, interByteGapMs: options.interByteGapMs ?? 50 },
    (frame) => frames.push(frame),
    (reason) => rejected.push(reason),
  );
  return { reader, frames, rejected };
}

test('the reader delivers frames whole, split byte by byte, or several in one chunk', (t) => {
  const ack = encodeFrame(validatorToHost());
  const events = encodeFrame(validatorToHost([2, 3, 0, 3, 1, 0, 0, 0, 0, 0, 0]));
  const { reader, frames, rejected } = hostReader();
  reader.push(Uint8Array.from([...ack, ...events]));
  for (const byte of events) reader.push(Uint8Array.of(byte));
  t.deepEqual(frames.map((f) => f.data.length), [0, 11, 11]);
  t.deepEqual(rejected, []);
});

test('a frame with a bad checksum is rejected, and the next frame still arrives', (t) => {
  const { reader, frames, rejected } = hostReader();
  const bad = encodeFrame(validatorToHost([1]));
  bad[4] = (bad[4] ?? 0) ^ 0x10;
  reader.push(bad);
  reader.push(encodeFrame(validatorToHost()));
  t.deepEqual(rejected, ['bad-checksum']);
  t.is(frames.length, 1);
});

test('frames for another address or from another device are rejected', (t) => {
  const { reader, frames, rejected } = hostReader();
  reader.push(encodeFrame({ destination: 2, source: 40, header: 0, data: new Uint8Array(0) }));
  reader.push(encodeFrame({ destination: 1, source: 2, header: 0, data: new Uint8Array(0) }));
  t.deepEqual(rejected, ['not-for-us', 'wrong-source']);
  t.is(frames.length, 0);
});

test('garbage is cut by its length byte, fails the checksum, and is rejected rather than delivered', (t) => {
  const { reader, frames, rejected } = hostReader();
  // 0x41 0x03 reads as "destination 0x41, 3 data bytes": 8 bytes are taken as one frame.
  reader.push(Uint8Array.of(0x41, 0x03, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47));
  t.deepEqual(rejected, ['bad-checksum']);
  t.is(frames.length, 0);
});

test('a partial frame is dropped after the inter-byte gap and the next frame is read whole', async (t) => {
  const { reader, frames, rejected } = hostReader({ interByteGapMs: 20 });
  const ack = encodeFrame(validatorToHost([9, 9]));
  reader.push(ack.slice(0, 4));
  // Waiting longer than the gap: CCTalkParser drops what it holds when the next byte comes late.
  await new Promise((resolve) => setTimeout(resolve, 80));
  reader.push(encodeFrame(validatorToHost()));
  t.deepEqual(rejected, []);
  t.deepEqual(frames.map((f) => [...f.data]), [[]]);
});

test('with lineEchoes the copy of our own frame is dropped, and the reply after it delivered', (t) => {
  const { reader, frames, rejected } = hostReader({ lineEchoes: true });
  const poll = encodeFrame(hostToValidator(HEADER.SIMPLE_POLL));
  reader.sending(poll);
  reader.push(Uint8Array.from([...poll, ...encodeFrame(validatorToHost())]));
  t.is(frames.length, 1);
  t.deepEqual(rejected, []);
  t.is(reader.stats.echoesDropped, 1);
});

test('without lineEchoes an echo is still never taken for a reply: it is addressed to the validator', (t) => {
  const { reader, frames, rejected } = hostReader({ lineEchoes: false });
  const poll = encodeFrame(hostToValidator(HEADER.SIMPLE_POLL));
  reader.sending(poll);
  reader.push(poll);
  t.is(frames.length, 0);
  t.deepEqual(rejected, ['not-for-us']);
});

test('with lineEchoes a reply that arrives without the echo is delivered and the missing echo counted', (t) => {
  const { reader, frames } = hostReader({ lineEchoes: true });
  reader.sending(encodeFrame(hostToValidator(HEADER.SIMPLE_POLL)));
  reader.push(encodeFrame(validatorToHost()));
  t.is(frames.length, 1);
  t.is(reader.stats.echoesMissing, 1);
});

test('inhibit masks: bit n-1 enables bill type n, types 1..8 in the first byte', (t) => {
  t.deepEqual([...encodeInhibitMask([1, 2, 3, 4, 5])], [0x1f, 0x00]);
  t.deepEqual([...encodeInhibitMask([9, 16])], [0x00, 0x81]);
  t.deepEqual(decodeInhibitMask(Uint8Array.of(0x0e, 0x80)), [2, 3, 4, 16]);
  t.throws(() => encodeInhibitMask([17]), { instanceOf: RangeError });
  t.throws(() => decodeInhibitMask(Uint8Array.of(1)), { instanceOf: MessageFormatError });
});

test('bill ids parse as country, value and issue; empty slots are undefined; anything else is refused', (t) => {
  t.deepEqual(decodeBillId(encodeAscii('CA0020A')), { countryCode: 'CA', value: 20, issue: 'A' });
  t.is(decodeBillId(encodeAscii('.......')), undefined);
  t.is(decodeBillId(encodeAscii('CA0000A')), undefined);
  t.throws(() => decodeBillId(encodeAscii('CA002OA')), { instanceOf: MessageFormatError });
  t.throws(() => decodeBillId(encodeAscii('CA0020')), { instanceOf: MessageFormatError });
});

test('a bill value in cents is value x scaling x 10^(2 - decimal places), in whole cents only', (t) => {
  t.is(billValueCents(20, { scalingFactor: 100, decimalPlaces: 2 }), 2000);
  t.is(billValueCents(5, { scalingFactor: 1, decimalPlaces: 0 }), 500);
  t.is(billValueCents(1, { scalingFactor: 1000, decimalPlaces: 3 }), 100);
  t.is(billValueCents(1, { scalingFactor: 5, decimalPlaces: 3 }), undefined, 'half a cent');
  t.is(billValueCents(20, { scalingFactor: 0, decimalPlaces: 0 }), undefined, 'an unknown country answers 0');
  t.deepEqual(decodeScalingFactor(Uint8Array.of(0x10, 0x27, 4)), { scalingFactor: 10_000, decimalPlaces: 4 });
});

test('the serial number is three bytes, least significant first', (t) => {
  t.is(decodeSerialNumber(Uint8Array.of(0x56, 0x34, 0x12)), 0x123456);
  t.throws(() => decodeSerialNumber(Uint8Array.of(1, 2)), { instanceOf: MessageFormatError });
});

test('the accept counter is three bytes, least significant first, 0 .. 2^24 - 1', (t) => {
  t.is(decodeAcceptCounter(fromHex('d2 04 00')), 1234);
  t.is(decodeAcceptCounter(fromHex('ff ff ff')), 0xffffff);
  t.is(toHex(encodeAcceptCounter(1235)), 'd3 04 00');
  t.throws(() => decodeAcceptCounter(fromHex('d2 04')), { instanceOf: MessageFormatError });
  t.throws(() => decodeAcceptCounter(fromHex('d2 04 00 00')), { instanceOf: MessageFormatError });
  for (const impossible of [-1, 0x1000000, 1.5]) t.throws(() => encodeAcceptCounter(impossible), { instanceOf: RangeError }, String(impossible));
});

test('the event buffer is the counter then five A/B pairs, newest first, and nothing else', (t) => {
  const buffer = decodeEventBuffer(fromHex('02 03 00 03 01 00 00 00 00 00 00'));
  t.is(buffer.eventCounter, 2);
  t.deepEqual(buffer.events[0], { resultA: 3, resultB: 0 });
  t.deepEqual(buffer.events[1], { resultA: 3, resultB: 1 });
  t.throws(() => decodeEventBuffer(fromHex('02 03 00')), { instanceOf: MessageFormatError });
});
