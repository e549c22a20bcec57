// A kiosk provisioned with two bank hosts: when the one it uses stops, it serves customers through the other,
// with the real controller, devices on ptys and two real hosts on loopback.
import test from 'ava';
import { addCustomer } from '../../../bank-host/customers/admin.js';
import { KIOSK_STATUS_PREFIX } from '../../../bank-host/devices/kiosk-status.js';
import { startTestHost } from '../../helpers/host.js';
import { FAST_SCRYPT, KIOSK_ID, PASSWORD, startKioskRig } from './kiosk-rig.js';

test('the kiosk moves to its second host when the first stops, reports its status there and serves a customer', async (t) => {
  const second = await startTestHost();
  t.teardown(() => second.close());
  // Several hosts share one database in production; here each has its own, so the kiosk's key and the
  // customer are enrolled on both.
  const first = await startTestHost();
  t.teardown(() => first.close());
  const kShared = await first.addDevice(KIOSK_ID);
  await second.addDevice(KIOSK_ID, kShared);
  const rig = await startKioskRig({
    host: first,
    kShared,
    config: { host: undefined, port: undefined, hosts: [{ host: '127.0.0.1', port: first.port }, { host: '127.0.0.1', port: second.port }] },
  });
  t.teardown(() => rig.close());
  await rig.waitFor((s) => s.screen === 'welcome');
  t.is(first.host.channel.connectionCount(KIOSK_ID), 1);
  t.is(second.host.channel.connectionCount(KIOSK_ID), 0);

  await first.stop();
  await rig.waitFor((s) => s.screen === 'welcome' && second.host.channel.connectionCount(KIOSK_ID) === 1, 30_000);
  // The kiosk told the second host its state (cash and devices) before serving anyone there.
  const reported: string[] = [];
  for await (const [key] of second.host.state.services.db.entries(KIOSK_STATUS_PREFIX)) reported.push(key);
  t.true(reported.some((key) => key.endsWith(KIOSK_ID)), JSON.stringify(reported));

  await addCustomer(second.host.state.services, 'maya', PASSWORD, { scryptCost: FAST_SCRYPT });
  await rig.kiosk.beginPasswordSignIn('maya', PASSWORD);
  t.is(rig.kiosk.snapshot().screen, 'menu');
});
