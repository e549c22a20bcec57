// The encrypting PIN pad: the driver and the simulator over a real socat pty pair, with the host's side of
// the key delivery (protocol/pin-key-delivery.ts). Raw frames are written to the simulator to check its
// bytes and its refusals.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { keyCheckValue } from '../../../protocol/key-block.js';
import { decodePinBlockFormat4 } from '../../../protocol/pin-block.js';
import { deliverPinKey, verifyEppCertificate } from '../../../protocol/pin-key-delivery.js';
import { EPP_COMMAND, EPP_STATUS } from '../../../kiosk/devices/pin-pad/epp/commands.js';
import { EppPinPad } from '../../../kiosk/devices/pin-pad/epp/driver.js';
import { crc16, EppFrameDecoder, encodeEppFrame, type EppFrame } from '../../../kiosk/devices/pin-pad/epp/frame.js';
import { EppSimulator } from '../../../kiosk/devices/pin-pad/epp/simulator.js';
import type { PinPadEvent } from '../../../kiosk/devices/pin-pad/pin-entry.js';
import { openPtyPair, type PtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { SerialLink } from '../../../kiosk/devices/serial/serial-link.js';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { eventually } from '../../helpers/host.js';
import { testEppIdentity, testVendorCas } from '../../helpers/epp-vendor.js';

const PAN = '4111111111111111';

async function rig(t: import('ava').ExecutionContext) {
  const pair: PtyPair = await openPtyPair();
  const simulator = await EppSimulator.start({ path: pair.devicePath, identity: testEppIdentity() });
  const pad = new EppPinPad({ path: pair.hostPath, reopenDelayMs: 100 });
  const events: PinPadEvent[] = [];
  pad.onAny((event) => events.push(event));
  t.teardown(async () => {
    await pad.stop();
    await simulator.stop();
    await pair.close();
  });
  pad.start();
  t.true(await eventually(() => events.some((e) => e.type === 'unavailable' && e.reason === 'no PIN key loaded'), 10_000), JSON.stringify(events));
  return { pair, simulator, pad, events };
}

/** The host's part: checks the pad's certificate and wraps `pek` for it. */
async function delivery(pad: EppPinPad, deviceId: string, pek: Buffer, version = 1) {
  const certificate = verifyEppCertificate(await pad.certificate(), testVendorCas());
  return { deviceId, ...(await deliverPinKey(certificate, deviceId, pek, version)) };
}

test('a PIN key delivered by the host loads into the pad; the pad reports its check value and becomes available', async (t) => {
  const { pad, events } = await rig(t);
  t.false(pad.isAvailable);
  t.is(await pad.pinKeyStatus(), undefined);
  const pek = randomBytes(32);
  const load = await delivery(pad, 'kiosk-epp', pek, 4);
  const loaded = await pad.loadPinKey(load);
  t.deepEqual(loaded, { kcv: await keyCheckValue(pek), version: 4 });
  t.deepEqual(await pad.pinKeyStatus(), loaded);
  t.true(pad.isAvailable);
  t.true(events.some((e) => e.type === 'available'));
});

test('PIN entry: keys arrive as counts only, Correct clears, Enter gives a format-4 block under the PEK bound to the PAN', async (t) => {
  const { pad, simulator, events } = await rig(t);
  const pek = randomBytes(32);
  await pad.loadPinKey(await delivery(pad, 'kiosk-epp', pek));
  pad.begin({ pan: PAN });
  t.true(await eventually(() => simulator.state === 'pin'));
  simulator.press('9', '9', 'correct', '2', '4', 'enter');
  t.true(await eventually(() => events.some((e) => e.type === 'too-short')));
  simulator.press('6', '8', 'enter');
  t.true(await eventually(() => events.some((e) => e.type === 'pin-block'), 10_000));
  const entry = events.filter((e) => !['available', 'unavailable'].includes(e.type));
  t.deepEqual(
    entry.map((e) => e.type),
    ['digit-entered', 'digit-entered', 'cleared', 'digit-entered', 'digit-entered', 'too-short', 'digit-entered', 'digit-entered', 'submit', 'pin-block'],
  );
  t.deepEqual(entry.filter((e) => e.type === 'digit-entered').map((e) => (e as { count: number }).count), [1, 2, 1, 2, 3, 4]);
  const block = (events.find((e) => e.type === 'pin-block') as { block: Buffer }).block;
  t.is(decodePinBlockFormat4(block, PAN, pek), '2468');
  t.is(simulator.state, 'idle');
});

test('Cancel ends the entry; a block for another device or one whose check value lies is refused and the old key stays', async (t) => {
  const { pad, simulator, events } = await rig(t);
  const pek = randomBytes(32);
  const first = await pad.loadPinKey(await delivery(pad, 'kiosk-epp', pek));
  pad.begin({ pan: PAN });
  t.true(await eventually(() => simulator.state === 'pin'));
  simulator.press('1', 'cancel');
  t.true(await eventually(() => events.some((e) => e.type === 'cancel')));
  t.false(pad.isArmed);

  // Wrapped for another device: the pad derives another KBPK, or reads another label; either way refused.
  const other = await delivery(pad, 'kiosk-other', randomBytes(32));
  const refused = await t.throwsAsync(pad.loadPinKey({ ...other, deviceId: 'kiosk-epp' }));
  t.true(isDeviceError(refused, 'PIN_PAD_REFUSED'), String(refused));
  t.regex(refused!.message, /KEY_REJECTED/);
  // A block changed on the way.
  const good = await delivery(pad, 'kiosk-epp', randomBytes(32));
  const changed = good.keyBlock.slice(0, -1) + (good.keyBlock.endsWith('0') ? '1' : '0');
  t.regex((await t.throwsAsync(pad.loadPinKey({ ...good, keyBlock: changed })))!.message, /KEY_REJECTED/);
  t.deepEqual(await pad.pinKeyStatus(), first);
});

test('clear-text mode reports digits and function keys for menus, and is refused during PIN entry', async (t) => {
  const { pad, simulator, events } = await rig(t);
  await pad.loadPinKey(await delivery(pad, 'kiosk-epp', randomBytes(32)));
  await pad.setClearTextMode(true);
  simulator.press('5', 'F1', 'enter', 'correct');
  t.true(await eventually(() => events.filter((e) => e.type === 'clear-key').length === 4));
  t.deepEqual(events.filter((e) => e.type === 'clear-key').map((e) => (e as { key: string }).key), ['5', 'F1', 'enter', 'correct']);
  pad.begin({ pan: PAN });
  t.true(await eventually(() => simulator.state === 'pin'));
  t.regex((await t.throwsAsync(pad.setClearTextMode(true)))!.message, /WRONG_STATE/);
  simulator.press('7');
  t.true(await eventually(() => events.some((e) => e.type === 'digit-entered')));
  t.is(events.filter((e) => e.type === 'clear-key').length, 4, 'a PIN digit is never a clear key');
});

test('a zeroized pad has no key: it is unavailable and refuses PIN entry', async (t) => {
  const { pad, pair, simulator, events } = await rig(t);
  await pad.loadPinKey(await delivery(pad, 'kiosk-epp', randomBytes(32)));
  simulator.module.zeroize();
  t.is(await pad.pinKeyStatus(), undefined);
  t.false(pad.isAvailable);
  const before = events.length;
  pad.begin({ pan: PAN });
  t.true(await eventually(() => events.slice(before).some((e) => e.type === 'unavailable' && e.reason === 'no PIN key loaded')));
  t.truthy(pair);
});

test('the frame codec: CRC-16/CCITT-FALSE check value, resynchronisation after garbage, truncated frames', (t) => {
  t.is(crc16(Buffer.from('123456789', 'ascii')), 0x29b1);
  const decoder = new EppFrameDecoder(50);
  const frame = encodeEppFrame({ seq: 0, command: 0x4b, data: Buffer.from([0x2a, 1]) });
  t.is(frame.toString('hex'), '020000034b2a01032dca');
  const items = decoder.push(Buffer.concat([Buffer.from([0x00, 0x41]), frame.subarray(0, 4)]), 0);
  t.deepEqual(items.map((i) => i.kind === 'error' && i.code), ['garbage']);
  const rest = decoder.push(frame.subarray(4), 10);
  t.like(rest[0], { kind: 'frame', frame: { seq: 0, command: 0x4b } });
  t.deepEqual(decoder.push(frame.subarray(0, 5), 20), []);
  t.like(decoder.push(frame, 500)[0], { kind: 'error', code: 'truncated' });
  t.throws(() => encodeEppFrame({ seq: 256, command: 1, data: Buffer.alloc(0) }), { instanceOf: RangeError });
  t.throws(() => encodeEppFrame({ seq: 1, command: 1, data: Buffer.alloc(1_025) }), { instanceOf: RangeError });
});

/** A raw line to the simulator: writes frames, collects what comes back. */
async function rawLine(t: import('ava').ExecutionContext) {
  const pair = await openPtyPair();
  const simulator = await EppSimulator.start({ path: pair.devicePath, identity: testEppIdentity('RAW0001') });
  const decoder = new EppFrameDecoder(200);
  const frames: EppFrame[] = [];
  const raw: Buffer[] = [];
  const link = await SerialLink.open({ path: pair.hostPath, baudRate: 9600, writeTimeoutMs: 2_000, closeTimeoutMs: 2_000 }, {
    onData: (bytes) => {
      raw.push(bytes);
      for (const item of decoder.push(bytes, Date.now())) if (item.kind === 'frame') frames.push(item.frame);
    },
    onUnexpectedClose: () => {},
  });
  t.teardown(async () => {
    await link.close();
    await simulator.stop();
    await pair.close();
  });
  return { link, frames, raw, simulator };
}

test('the bytes on the line: a KCV query without a key, and an identify, exactly as docs/devices.md shows them', async (t) => {
  const { link, raw, frames } = await rawLine(t);
  const query = encodeEppFrame({ seq: 1, command: EPP_COMMAND.KCV_QUERY, data: Buffer.alloc(0) });
  t.is(query.toString('hex'), '0201000156031817');
  await link.write(query);
  t.true(await eventually(() => frames.length === 1));
  t.is(Buffer.concat(raw).toString('hex'), '02010002d60503be7a');
  await link.write(encodeEppFrame({ seq: 2, command: EPP_COMMAND.IDENTIFY, data: Buffer.alloc(0) }));
  t.true(await eventually(() => frames.length === 2));
  t.is(frames[1]!.command, 0xc9);
  t.is(frames[1]!.data[0], EPP_STATUS.OK);
  t.is(frames[1]!.data.subarray(1).toString('ascii'), 'test-epp-vendor RAW0001 sim-1.0');
});

test('bad frames, bad checksums, unknown commands and bad data are refused with their status, and the line goes on', async (t) => {
  const { link, frames, simulator } = await rawLine(t);
  const good = encodeEppFrame({ seq: 7, command: EPP_COMMAND.KCV_QUERY, data: Buffer.alloc(0) });
  const badCrc = Buffer.from(good);
  badCrc[badCrc.length - 1] = badCrc[badCrc.length - 1]! ^ 0xff;
  await link.write(badCrc);
  t.true(await eventually(() => frames.length === 1));
  t.like(frames[0], { seq: 7, command: 0xff });
  t.is(frames[0]!.data[0], EPP_STATUS.BAD_FRAME);
  // LEN beyond the bound.
  await link.write(Buffer.from([0x02, 0x08, 0xff, 0xff, 0x56, 0x03, 0x00, 0x00]));
  t.true(await eventually(() => frames.length === 2));
  t.like(frames[1], { seq: 8, command: 0xff });
  // ETX missing where LEN puts it.
  const noEtx = encodeEppFrame({ seq: 9, command: EPP_COMMAND.IDENTIFY, data: Buffer.alloc(0) });
  noEtx[5] = 0x04;
  await link.write(noEtx);
  t.true(await eventually(() => frames.length === 3));
  t.like(frames[2], { seq: 9, command: 0xff });
  // Unknown command 'Q'.
  await link.write(encodeEppFrame({ seq: 10, command: 0x51, data: Buffer.alloc(0) }));
  t.true(await eventually(() => frames.length === 4));
  t.like(frames[3], { seq: 10, command: 0xd1 });
  t.is(frames[3]!.data[0], EPP_STATUS.UNKNOWN_COMMAND);
  // Bad data: PIN entry for 3 digits; a PIN block with a PAN of letters; a block without entry.
  await link.write(encodeEppFrame({ seq: 11, command: EPP_COMMAND.START_PIN_ENTRY, data: Buffer.from([3, 12]) }));
  await link.write(encodeEppFrame({ seq: 12, command: EPP_COMMAND.GET_PIN_BLOCK, data: Buffer.from('41111111x', 'ascii') }));
  await link.write(encodeEppFrame({ seq: 13, command: EPP_COMMAND.GET_PIN_BLOCK, data: Buffer.from(PAN, 'ascii') }));
  await link.write(encodeEppFrame({ seq: 14, command: EPP_COMMAND.START_PIN_ENTRY, data: Buffer.from([4, 12]) }));
  await link.write(encodeEppFrame({ seq: 15, command: EPP_COMMAND.LOAD_KEY_BLOCK, data: Buffer.from('D0112P0AE00N0000', 'ascii') }));
  t.true(await eventually(() => frames.length === 9));
  t.deepEqual(frames.slice(4).map((f) => [f.seq, f.data[0]]), [
    [11, EPP_STATUS.BAD_DATA],
    [12, EPP_STATUS.BAD_DATA],
    [13, EPP_STATUS.WRONG_STATE],
    [14, EPP_STATUS.NO_KEY],
    [15, EPP_STATUS.NO_EXCHANGE],
  ]);
  // Garbage between frames is skipped; the next frame is answered.
  await link.write(Buffer.concat([Buffer.from('noise'), good]));
  t.true(await eventually(() => frames.length === 10));
  t.like(frames[9], { seq: 7, command: 0xd6 });
  t.true(simulator.received.includes('bad-frame'));
});
