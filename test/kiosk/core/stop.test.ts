// A kiosk that stops while a device check is in flight: the check ends before the devices close, and opens
// nothing once the kiosk is stopping. Before, a check waiting on the dispenser went on to open the printer
// and the note acceptor again after the stop had closed them, and held their ports (and their locks) in a
// stopped kiosk: a kiosk started next on the same lines found them locked ("Cannot lock port").
import test from 'ava';
import { COMMAND } from '../../../kiosk/devices/dispenser/messages.js';
import { SerialLink } from '../../../kiosk/devices/serial/serial-link.js';
import { eventually } from '../../helpers/host.js';
import { startKioskRig } from './kiosk-rig.js';

/** How long the dispenser stays silent: the check waits on it while the kiosk stops. */
const DISPENSER_SILENT_MS = 1_500;

test('a device check in flight when the kiosk stops ends first: no port is opened again, and the next kiosk can open them', async (t) => {
  t.timeout(90_000);
  const rig = await startKioskRig({ kioskOptions: { deviceCheckIntervalMs: 50 } });
  t.teardown(() => rig.close());
  const kiosk = rig.kiosk;
  const paths = [rig.linePaths.printer, rig.linePaths.noteAcceptor];
  const asked = rig.dispenser.receivedCount(COMMAND.STATUS);
  rig.dispenser.goSilent(DISPENSER_SILENT_MS);
  // A check has asked the silent dispenser for its status and waits for the answer.
  t.true(await eventually(() => rig.dispenser.receivedCount(COMMAND.STATUS) > asked, 20_000), 'a check asked the dispenser');
  await kiosk.stop();
  // Past the silent window: a check that outlived the stop would have gone on to the printer by now.
  await new Promise((resolve) => setTimeout(resolve, DISPENSER_SILENT_MS + 1_500));
  t.is(kiosk.devices.printer.availability, 'closed');
  for (const path of paths) {
    // The next kiosk's open, with its exclusive lock: refused while the stopped one still holds the port.
    const link = await SerialLink.open({ path, baudRate: 115_200, writeTimeoutMs: 1_000, closeTimeoutMs: 1_000 }, { onData: () => {}, onUnexpectedClose: () => {} });
    await link.close();
    t.pass(`${path} opened after the stop`);
  }
});
