import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeHidDeviceSource, type HidDeviceSource, type HidReportListener, type OpenHidDevice } from '../../../kiosk/devices/hid/hid-device-source.js';
import { ReconnectingHidDevice } from '../../../kiosk/devices/hid/reconnecting-hid-device.js';

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

/** Fails every open until `present`, recording when each attempt happened. */
class AbsentSource implements HidDeviceSource {
  readonly description = 'absent device';
  attemptsAtMs: number[] = [];
  present = false;
  listener: HidReportListener | undefined;
  async open(listener: HidReportListener): Promise<OpenHidDevice> {
    this.attemptsAtMs.push(Date.now());
    if (!this.present) throw new Error('no such device');
    this.listener = listener;
    return { close: async () => undefined };
  }
}

test('reopen attempts back off exponentially up to the maximum delay, and unavailable is reported once', async (t) => {
  const source = new AbsentSource();
  const calls: string[] = [];
  const device = new ReconnectingHidDevice(
    source,
    { onReport: () => calls.push('report'), onAvailable: () => calls.push('available'), onUnavailable: () => calls.push('unavailable') },
    { reopenDelayMinMs: 10, reopenDelayMaxMs: 40 },
  );
  device.start();
  await until(() => source.attemptsAtMs.length >= 6);
  const gaps = source.attemptsAtMs.slice(1).map((at, i) => at - source.attemptsAtMs[i]!);
  // 10, 20, 40, 40, 40 ms nominal; timers only ever fire late, so check the lower bounds and the cap.
  t.true(gaps[0]! >= 9 && gaps[1]! >= 19 && gaps[2]! >= 39, `gaps ${gaps.join(',')}`);
  t.true(gaps.slice(3).every((gap) => gap >= 39 && gap < 200), `gaps ${gaps.join(',')}`);
  t.deepEqual(calls, ['unavailable']);
  source.present = true;
  await until(() => device.isOpen);
  source.listener!.onReport(Buffer.alloc(8));
  t.deepEqual(calls, ['unavailable', 'available', 'report']);
  await device.stop();
  const attempts = source.attemptsAtMs.length;
  await sleep(60);
  t.is(source.attemptsAtMs.length, attempts, 'no attempts after stop');
});

test('stop during a pending open closes the device as soon as the open completes', async (t) => {
  let closed = false;
  let resolveOpen: ((device: OpenHidDevice) => void) | undefined;
  const source: HidDeviceSource = {
    description: 'slow device',
    open: () => new Promise((resolve) => (resolveOpen = resolve)),
  };
  const calls: string[] = [];
  const device = new ReconnectingHidDevice(source, {
    onReport: () => calls.push('report'),
    onAvailable: () => calls.push('available'),
    onUnavailable: () => calls.push('unavailable'),
  });
  device.start();
  await device.stop();
  resolveOpen!({ close: async () => void (closed = true) });
  await until(() => closed);
  t.deepEqual(calls, []);
});

test('the node-hid source names its device by path or by vendor:product id', (t) => {
  t.is(new NodeHidDeviceSource({ path: '/dev/atm-pin-pad' }).description, 'HID device /dev/atm-pin-pad');
  t.is(new NodeHidDeviceSource({ vendorId: 0x0801, productId: 0x0002 }).description, 'HID device 0801:0002');
});

test('the node-hid source rejects the open of a device that does not exist, so the driver retries', async (t) => {
  const source = new NodeHidDeviceSource({ path: '/dev/atm-test-no-such-hidraw' });
  await t.throwsAsync(source.open({ onReport: () => undefined, onError: () => undefined }));
});

test('HID device modules load in plain Node: no Electron import, and node-hid only on first open', async (t) => {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const folder of ['kiosk/devices/hid', 'kiosk/devices/card-reader', 'kiosk/devices/pin-pad']) {
    // Every module below the folder (the PIN pad's EPP driver is in a folder of its own).
    for (const file of (await readdir(folder, { recursive: true })).filter((name) => name.endsWith('.ts'))) {
      const text = await readFile(`${folder}/${file}`, 'utf8');
      t.false(/from ['"]electron['"]/.test(text), `${folder}/${file} imports electron`);
      t.false(/^import .* from ['"]node-hid['"]/m.test(text), `${folder}/${file} loads node-hid eagerly`);
    }
  }
});
