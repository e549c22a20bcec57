// The kiosk keeps its PIN pad's PIN key the host's current one: over a real channel to a real host, with
// the EPP simulator behind a socat pty. The kiosk's process relays; it never holds the key.
import test from 'ava';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { EppPinPad } from '../../../kiosk/devices/pin-pad/epp/driver.js';
import { EppSimulator } from '../../../kiosk/devices/pin-pad/epp/simulator.js';
import { PinKeyKeeper } from '../../../kiosk/core/pin-key-keeper.js';
import { silentLogger } from '../../../protocol/log.js';
import { eventually, startTestHost } from '../../helpers/host.js';
import { testKioskStatus } from '../../helpers/kiosk-cash.js';
import { testEppIdentity } from '../../helpers/epp-vendor.js';

async function setup(t: import('ava').ExecutionContext) {
  const host = await startTestHost();
  const client = await host.connectedClient('kiosk-keeper');
  const pair = await openPtyPair();
  const simulator = await EppSimulator.start({ path: pair.devicePath, identity: testEppIdentity() });
  const pad = new EppPinPad({ path: pair.hostPath, reopenDelayMs: 100 });
  pad.start();
  const keeper = new PinKeyKeeper({ deviceId: 'kiosk-keeper', client: () => client, pinPad: () => pad, log: silentLogger, retryMs: 200 });
  t.teardown(async () => {
    keeper.stop();
    await pad.stop();
    await simulator.stop();
    await pair.close();
    await host.close();
  });
  const hostKcv = async () => (await client.request('kiosk.status', testKioskStatus())).pinKeyKcv;
  return { host, client, simulator, pad, keeper, hostKcv };
}

test('the pad gets the host PEK named in the status answer, and the next one after rotate-pin-key', async (t) => {
  const { host, pad, keeper, hostKcv } = await setup(t);
  t.true(await eventually(async () => (await pad.pinKeyStatus().catch(() => 'not open')) === undefined, 10_000));
  const first = await hostKcv();
  t.truthy(first);
  await keeper.refresh(first);
  t.is((await pad.pinKeyStatus())?.kcv, first);
  t.true(pad.isAvailable);
  // Nothing to do when the pad already holds it.
  await keeper.refresh(first);
  await host.host.state.registry.rotatePinKey('kiosk-keeper');
  const second = await hostKcv();
  t.not(second, first);
  await keeper.refresh(second);
  t.deepEqual(await pad.pinKeyStatus(), { kcv: second!, version: 2 });
});

// A run already in progress (a retry, a status answer before the rotation) may have read the pad before the
// host's key changed: a caller who names the new key waits for a run of its own. A loaded CI run caught the
// keeper answering with the older run: the pad still held version 1 when the caller went on.
test('a refresh asked while another runs waits for a run that began after it, and the pad holds the new key', async (t) => {
  const { host, pad, keeper, hostKcv } = await setup(t);
  t.true(await eventually(async () => (await pad.pinKeyStatus().catch(() => 'not open')) === undefined, 10_000));
  const first = await hostKcv();
  await keeper.refresh(first);
  await host.host.state.registry.rotatePinKey('kiosk-keeper');
  const second = await hostKcv();
  // The older run: it finds the pad holding `first` and has nothing to do.
  const older = keeper.refresh(first);
  await keeper.refresh(second);
  t.deepEqual(await pad.pinKeyStatus(), { kcv: second!, version: 2 });
  await older;
  // Both callers' runs are over: nothing is left running or queued.
  await keeper.refresh(second);
  t.deepEqual(await pad.pinKeyStatus(), { kcv: second!, version: 2 });
});

test('a pad that loses its key (zeroized) gets it again by itself', async (t) => {
  const { simulator, pad, keeper, hostKcv } = await setup(t);
  t.true(await eventually(async () => (await pad.pinKeyStatus().catch(() => 'not open')) === undefined, 10_000));
  const kcv = await hostKcv();
  await keeper.refresh(kcv);
  simulator.module.zeroize();
  // The kiosk notices at its next question to the pad (a PIN entry that cannot start, a check).
  pad.begin({ pan: '4111111111111111' });
  t.true(await eventually(async () => simulator.module.pinKey?.kcv === kcv, 10_000));
  t.true(await eventually(() => pad.isAvailable, 10_000));
});
