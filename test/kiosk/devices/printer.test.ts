// The receipt printer driver against the simulator over a real pty pair made by socat.
import test, { type ExecutionContext } from 'ava';
import { isDeviceError } from '../../../kiosk/devices/serial/device-error.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { SerialReceiptPrinter, type PrinterLimits } from '../../../kiosk/devices/printer/driver.js';
import { PrinterSimulator } from '../../../kiosk/devices/printer/simulator.js';

async function rig(t: ExecutionContext, limits: Partial<PrinterLimits> = {}) {
  const pair = await openPtyPair();
  const sim = await PrinterSimulator.start({ path: pair.devicePath });
  const printer = new SerialReceiptPrinter({ path: pair.hostPath, limits: { statusTimeoutMs: 150, ...limits } });
  t.teardown(async () => {
    await printer.close();
    await sim.stop();
    await pair.close();
  });
  await printer.open();
  return { sim, printer };
}

test('a printed receipt is read back from the simulator, line for line, split at the cut', async (t) => {
  const { sim, printer } = await rig(t);
  const receipt = ['ATM 0042 — Montréal', '', 'Retrait / Withdrawal', 'Montant: 60,00 $', 'Solde: 1 234,56 $'];
  const after = await printer.print(receipt);
  t.deepEqual(after, { online: true, paper: 'ok' });
  t.deepEqual(sim.receipts, [['ATM 0042 ? Montréal', '', 'Retrait / Withdrawal', 'Montant: 60,00 $', 'Solde: 1 234,56 $']]);
  await printer.print(['second']);
  t.deepEqual(sim.receipts[1], ['second']);
  t.is(sim.initializeCount, 2, 'each receipt starts with ESC @');
});

test('long lines wrap at 42 characters', async (t) => {
  const { sim, printer } = await rig(t);
  await printer.print(['Merci de votre visite. Thank you for banking with us today!']);
  const printed = sim.receipts[0] ?? [];
  t.deepEqual(printed, ['Merci de votre visite. Thank you for', 'banking with us today!']);
  t.true(printed.every((line) => line.length <= 42));
});

test('status reports paper near its end and out', async (t) => {
  const { sim, printer } = await rig(t);
  t.deepEqual(await printer.status(), { online: true, paper: 'ok' });
  sim.setPaper('near-end');
  t.deepEqual(await printer.status(), { online: true, paper: 'near-end' });
  sim.setPaper('out');
  t.deepEqual(await printer.status(), { online: false, paper: 'out' });
  t.is(printer.availability, 'unavailable');
});

test('printing is refused when the paper is out, and nothing is sent', async (t) => {
  const { sim, printer } = await rig(t);
  sim.setPaper('out');
  const error = await t.throwsAsync(printer.print(['should not print']));
  t.true(isDeviceError(error, 'PRINTER_OUT_OF_PAPER'), String(error));
  t.is(sim.initializeCount, 0);
  sim.setPaper('ok');
  await printer.print(['after refill']);
  t.deepEqual(sim.receipts, [['after refill']]);
});

test('printing near the end of the paper still prints and says so', async (t) => {
  const { sim, printer } = await rig(t);
  sim.setPaper('near-end');
  t.deepEqual(await printer.print(['ok']), { online: true, paper: 'near-end' });
  t.deepEqual(sim.receipts, [['ok']]);
});

test('printing is refused when the printer is offline', async (t) => {
  const { sim, printer } = await rig(t);
  sim.setCoverOpen(true);
  const error = await t.throwsAsync(printer.print(['x']));
  t.true(isDeviceError(error, 'PRINTER_OFFLINE'), String(error));
});

test('a printer that does not answer status fails with a timeout error', async (t) => {
  const { sim, printer } = await rig(t);
  sim.goSilent(1_000);
  const error = await t.throwsAsync(printer.status());
  t.true(isDeviceError(error, 'PRINTER_NO_RESPONSE'), String(error));
  t.is(printer.availability, 'unavailable');
});

test('garbage bytes from the printer are ignored', async (t) => {
  const { sim, printer } = await rig(t);
  await sim.injectBytes(Uint8Array.from([0x00, 0xff, 0x41, 0x80]));
  t.deepEqual(await printer.status(), { online: true, paper: 'ok' });
  await printer.print(['still fine']);
  t.deepEqual(sim.receipts, [['still fine']]);
  t.true(printer.unexpectedBytes >= 4);
});

test('a receipt that is not an array of strings, or too long, is refused', async (t) => {
  const { printer } = await rig(t, { maxLines: 3 });
  const tooLong = await t.throwsAsync(printer.print(['a', 'b', 'c', 'd']));
  t.true(isDeviceError(tooLong, 'BAD_ARGUMENT'));
  const notStrings = await t.throwsAsync(printer.print([1 as unknown as string]));
  t.true(isDeviceError(notStrings, 'BAD_ARGUMENT'));
});

test('an answer that comes after its request timed out is not taken for the next request: paper near its end stays online', async (t) => {
  const { sim, printer } = await rig(t);
  sim.setPaper('near-end');
  // The printer answers late: the driver gives up on the first request, and the bytes come during the next.
  sim.answerLate(250);
  const error = await t.throwsAsync(printer.status());
  t.true(isDeviceError(error, 'PRINTER_NO_RESPONSE'), String(error));
  // Each status is two requests (printer, paper); taken one answer behind, the paper byte would read as
  // "offline" from then on.
  for (let i = 0; i < 3; i++) t.deepEqual(await printer.status(), { online: true, paper: 'near-end' });
  t.is(printer.availability, 'available');
  t.is(printer.lateAnswers, 1);
});

test('an answer that never comes is given up for lost: the next status is read', async (t) => {
  const { sim, printer } = await rig(t);
  sim.goSilent(200);
  await t.throwsAsync(printer.status());
  await new Promise((resolve) => setTimeout(resolve, 250));
  t.deepEqual(await printer.status(), { online: true, paper: 'ok' });
  t.is(printer.lateAnswers, 0);
});
