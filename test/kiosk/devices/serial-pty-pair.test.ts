import test from 'ava';
import { SerialLink } from '../../../kiosk/devices/serial/serial-link.js';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';

const LINK_LIMITS = { baudRate: 9600, writeTimeoutMs: 1_000, closeTimeoutMs: 1_000 };

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a pty pair carries every byte value unchanged in both directions', async (t) => {
  const pair = await openPtyPair();
  t.teardown(() => pair.close());
  t.regex(pair.hostPath, /^\/dev\/pts\/\d+$/);
  t.regex(pair.devicePath, /^\/dev\/pts\/\d+$/);
  const received = { host: [] as number[], device: [] as number[] };
  const onUnexpectedClose = () => {};
  const host = await SerialLink.open({ path: pair.hostPath, ...LINK_LIMITS }, { onData: (b) => received.host.push(...b), onUnexpectedClose });
  const device = await SerialLink.open({ path: pair.devicePath, ...LINK_LIMITS }, { onData: (b) => received.device.push(...b), onUnexpectedClose });
  t.teardown(async () => {
    await host.close();
    await device.close();
  });
  // Raw mode matters: CR, LF, XON/XOFF, ^C and 0xFF must not be translated or eaten by the tty.
  const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
  await host.write(everyByte);
  await device.write(everyByte.slice().reverse());
  const deadline = Date.now() + 2_000;
  while ((received.device.length < 256 || received.host.length < 256) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.deepEqual(received.device, [...everyByte]);
  t.deepEqual(received.host, [...everyByte].reverse());
});

test('closing a pty pair stops socat, and closing twice is harmless', async (t) => {
  const pair = await openPtyPair();
  t.true(isRunning(pair.socatPid));
  await pair.close();
  await pair.close();
  t.false(isRunning(pair.socatPid));
});

test('a missing socat fails with the command that installs it', async (t) => {
  const error = await t.throwsAsync(openPtyPair({ socatCommand: '/nonexistent/socat' }));
  t.true(isDeviceError(error, 'SOCAT_MISSING'));
  t.true(error?.message.includes('apt-get install -y socat'), error?.message);
});

test('writing to a closed link fails with a device error', async (t) => {
  const pair = await openPtyPair();
  t.teardown(() => pair.close());
  const link = await SerialLink.open({ path: pair.hostPath, ...LINK_LIMITS }, { onData: () => {}, onUnexpectedClose: () => {} });
  await link.close();
  const error = await t.throwsAsync(link.write(Uint8Array.of(1)));
  t.true(isDeviceError(error, 'SERIAL_CLOSED'));
});

test('opening a path that is not a port fails with a device error', async (t) => {
  const error = await t.throwsAsync(
    SerialLink.open({ path: '/dev/pts/does-not-exist', ...LINK_LIMITS }, { onData: () => {}, onUnexpectedClose: () => {} }),
  );
  t.true(isDeviceError(error, 'SERIAL_OPEN_FAILED'));
});
