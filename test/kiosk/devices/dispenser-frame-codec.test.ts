import test from 'ava';
import {
  ACK,
  ETX,
  FrameDecoder,
  MAX_FRAME_BODY_BYTES,
  NAK,
  STX,
  blockCheck,
  encodeFrame,
  type DecodedItem,
  type Frame,
} from '../../../kiosk/devices/dispenser/frame-codec.js';
import {
  COMMAND,
  DEVICE_RESPONSES,
  HOST_COMMANDS,
  MessageFormatError,
  decodeCounters,
  decodeDispenseCommand,
  decodeDispenseRecord,
  decodeStatusReport,
  encodeCounters,
  encodeDispenseCommand,
  encodeDispenseRecord,
  encodeStatusReport,
  type DispenseRecord,
  type StatusReport,
} from '../../../kiosk/devices/dispenser/messages.js';

const INTER_BYTE_TIMEOUT_MS = 100;

function decoder(): FrameDecoder {
  return new FrameDecoder({ knownCommands: HOST_COMMANDS, interByteTimeoutMs: INTER_BYTE_TIMEOUT_MS });
}

function frames(items: DecodedItem[]): Frame[] {
  return items.flatMap((i) => (i.kind === 'frame' ? [i.frame] : []));
}

function errors(items: DecodedItem[]): string[] {
  return items.flatMap((i) => (i.kind === 'error' ? [i.code] : []));
}

const STATUS_FRAME: Frame = { seq: 7, command: COMMAND.STATUS, data: new Uint8Array(0) };
const DISPENSE_FRAME: Frame = { seq: 255, command: COMMAND.DISPENSE, data: encodeDispenseCommand({ transactionId: 42, notes: [2, 0, 3] }) };

test('a frame is STX LEN SEQ CMD DATA ETX BCC with BCC the XOR of LEN..ETX', (t) => {
  const bytes = encodeFrame({ seq: 1, command: 0x10, data: Uint8Array.of(0xaa) });
  t.deepEqual([...bytes], [STX, 2, 1, 0x10, 0xaa, ETX, 2 ^ 1 ^ 0x10 ^ 0xaa ^ ETX]);
  t.is(blockCheck(bytes, 1, 6), bytes[6] ?? -1);
});

test('frames round-trip through the decoder, whole or one byte at a time', (t) => {
  for (const frame of [STATUS_FRAME, DISPENSE_FRAME]) {
    const whole = decoder().push(encodeFrame(frame), 0);
    t.deepEqual(frames(whole), [frame]);
    const d = decoder();
    const items = [...encodeFrame(frame)].flatMap((b, i) => d.push(Uint8Array.of(b), i));
    t.deepEqual(frames(items), [frame]);
    t.deepEqual(errors(items), []);
  }
});

test('ACK and NAK between frames are reported in order', (t) => {
  const items = decoder().push(Uint8Array.from([ACK, ...encodeFrame(STATUS_FRAME), NAK]), 0);
  t.deepEqual(items.map((i) => i.kind), ['ack', 'frame', 'nak']);
});

test('a bad BCC is reported and the next frame still decodes', (t) => {
  const bad = encodeFrame(STATUS_FRAME);
  bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
  const items = decoder().push(Uint8Array.from([...bad, ...encodeFrame(DISPENSE_FRAME)]), 0);
  t.deepEqual(errors(items), ['bad-bcc']);
  t.deepEqual(frames(items), [DISPENSE_FRAME]);
});

test('a LEN of zero or above the maximum is a bad length and the decoder resyncs on the next STX', (t) => {
  for (const len of [0, MAX_FRAME_BODY_BYTES + 1, 0xff]) {
    const items = decoder().push(Uint8Array.from([STX, len, 0x01, ...encodeFrame(STATUS_FRAME)]), 0);
    // The byte after a bad LEN is outside any frame now.
    t.deepEqual(errors(items), ['bad-length', 'garbage'], `LEN ${len}`);
    t.deepEqual(frames(items), [STATUS_FRAME]);
  }
});

test('a LEN that does not match where ETX is reports bad ETX and finds the frame that follows', (t) => {
  const wrongLength = encodeFrame(DISPENSE_FRAME);
  wrongLength[1] = 3; // claims 3 body bytes; ETX is not where that puts it
  const items = decoder().push(Uint8Array.from([...wrongLength, ...encodeFrame(STATUS_FRAME)]), 0);
  // DATA bytes that look like STX start phantom frames; each fails a check and is reported too.
  t.is(errors(items)[0], 'bad-etx');
  t.deepEqual(frames(items), [STATUS_FRAME]);
});

test('a well-formed frame with an unknown command is reported, not delivered', (t) => {
  const unknown = encodeFrame({ seq: 1, command: 0x7e, data: new Uint8Array(0) });
  const items = decoder().push(Uint8Array.from([...unknown, ...encodeFrame(STATUS_FRAME)]), 0);
  t.deepEqual(errors(items), ['unknown-command']);
  t.deepEqual(frames(items), [STATUS_FRAME]);
  // Direction matters: the host side does not accept host commands as responses.
  const hostSide = new FrameDecoder({ knownCommands: DEVICE_RESPONSES, interByteTimeoutMs: INTER_BYTE_TIMEOUT_MS });
  t.deepEqual(errors(hostSide.push(encodeFrame(STATUS_FRAME), 0)), ['unknown-command']);
});

test('garbage between frames is reported once per run and skipped', (t) => {
  const items = decoder().push(Uint8Array.from([0x41, 0x42, 0xff, 0x00, ...encodeFrame(STATUS_FRAME), 0x99]), 0);
  t.deepEqual(errors(items), ['garbage', 'garbage']);
  const first = items[0];
  t.true(first?.kind === 'error' && first.byteCount === 4);
  t.deepEqual(frames(items), [STATUS_FRAME]);
});

test('a frame whose bytes stop arriving is reported truncated after the inter-byte timeout', (t) => {
  const d = decoder();
  const bytes = encodeFrame(DISPENSE_FRAME);
  t.deepEqual(d.push(bytes.subarray(0, 6), 0), []);
  t.true(d.hasPartialFrame);
  t.deepEqual(d.expire(INTER_BYTE_TIMEOUT_MS - 1), [], 'not yet');
  t.deepEqual(errors(d.expire(INTER_BYTE_TIMEOUT_MS)), ['truncated']);
  t.false(d.hasPartialFrame);
});

test('a truncated frame followed later by a whole frame yields the whole frame', (t) => {
  const d = decoder();
  d.push(encodeFrame(DISPENSE_FRAME).subarray(0, 5), 0);
  const items = d.push(encodeFrame(STATUS_FRAME), 1_000);
  t.deepEqual(errors(items), ['truncated']);
  t.deepEqual(frames(items), [STATUS_FRAME]);
});

test('a truncated frame followed at once by a new frame is resynchronised on that frame', (t) => {
  const cut = encodeFrame(DISPENSE_FRAME).subarray(0, 5);
  const items = decoder().push(Uint8Array.from([...cut, ...encodeFrame(STATUS_FRAME), ...encodeFrame(STATUS_FRAME)]), 0);
  t.deepEqual(errors(items), ['bad-bcc']);
  t.deepEqual(frames(items), [STATUS_FRAME, STATUS_FRAME]);
});

test('the encoder refuses bodies above the maximum and non-byte fields', (t) => {
  t.throws(() => encodeFrame({ seq: 0, command: 1, data: new Uint8Array(MAX_FRAME_BODY_BYTES) }), { instanceOf: RangeError });
  t.throws(() => encodeFrame({ seq: 256, command: 1, data: new Uint8Array(0) }), { instanceOf: RangeError });
});

test('DATA fields round-trip and reject wrong lengths and impossible records', (t) => {
  t.deepEqual(decodeDispenseCommand(encodeDispenseCommand({ transactionId: 0xfffffffe, notes: [1, 65535] })), {
    transactionId: 0xfffffffe,
    notes: [1, 65535],
  });
  const status: StatusReport = { state: 'ready', lastError: 'ok', cassettes: [{ denominationCents: 2000, count: 10, low: true }] };
  t.deepEqual(decodeStatusReport(encodeStatusReport(status)), status);
  t.deepEqual(decodeCounters(encodeCounters([1, 4_000_000_000])), [1, 4_000_000_000]);
  const record: DispenseRecord = { transactionId: 9, outcome: 'stopped', result: 'jam', requested: [3, 1], dispensed: [2, 0] };
  t.deepEqual(decodeDispenseRecord(encodeDispenseRecord(record), 'test'), record);

  const statusBytes = encodeStatusReport(status);
  t.throws(() => decodeStatusReport(statusBytes.subarray(0, statusBytes.length - 1)), { instanceOf: MessageFormatError });
  t.throws(() => decodeStatusReport(Uint8Array.from([...statusBytes, 0])), { instanceOf: MessageFormatError });
  t.throws(() => decodeStatusReport(Uint8Array.from([9, ...statusBytes.subarray(1)])), { instanceOf: MessageFormatError, message: /state/ });
  const overDispensed = encodeDispenseRecord({ ...record, dispensed: [4, 0] });
  t.throws(() => decodeDispenseRecord(overDispensed, 'test'), { message: /dispensed 4 > requested 3/ });
  const completedShort = encodeDispenseRecord({ ...record, outcome: 'completed', result: 'ok' });
  t.throws(() => decodeDispenseRecord(completedShort, 'test'), { message: /completed record/ });
});
