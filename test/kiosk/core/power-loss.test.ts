// Power loss at each withdrawal step: a kiosk process is SIGKILLed at the step, a new kiosk starts on
// the same journal, host and dispenser, and must leave the ledger whole, no hold open, the customer
// charged exactly what the dispenser counted out, and itself back in service.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { addCustomer } from '../../../bank-host/customers/admin.js';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { listHolds } from '../../../bank-host/ledger/operator.js';
import { createBankingOperations } from '../../../bank-host/operations/banking.js';
import { KioskController } from '../../../kiosk/core/kiosk.js';
import { KioskJournal } from '../../../kiosk/core/journal.js';
import { WITHDRAWAL_CRASH_POINTS, type WithdrawalCrashPoint } from '../../../kiosk/core/withdrawal.js';
import { DispenserSimulator } from '../../../kiosk/devices/dispenser/simulator.js';
import { PrinterSimulator } from '../../../kiosk/devices/printer/simulator.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { clientDeposit, startTestHost } from '../../helpers/host.js';
import { recordScenarioResult } from '../../reliability/results.js';
import { CASSETTES, FAST_SCRYPT, KIOSK_ID, PASSWORD, kioskConfigFor } from './kiosk-rig.js';
import { POWER_LOSS_PARAMS_ENV, type PowerLossParams } from './power-loss-kiosk.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'power-loss-kiosk.ts');
const FUNDED_CENTS = 50_000;
const AMOUNT_CENTS = 14_000; // 2 × $50 + 2 × $20 (the host takes multiples of $20)
/** Steps after which notes have left the dispenser. */
const NOTES_OUT: ReadonlySet<WithdrawalCrashPoint> = new Set([
  'notes-dispensed', 'journalled-dispensed', 'cash-taken', 'journalled-retracting', 'notes-retracted', 'journalled-retracted', 'host-settled',
]);
/** Steps reached only when the customer does not take the notes: the simulated customer never does, and
 *  the dispenser takes back all four notes. */
const RETRACT_STEPS: ReadonlySet<WithdrawalCrashPoint> = new Set(['journalled-retracting', 'notes-retracted', 'journalled-retracted']);
const RETRACTED_NOTES = 4;

function runUntilKilled(params: PowerLossParams): Promise<{ signal: NodeJS.Signals | null; code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      env: { ...process.env, [POWER_LOSS_PARAMS_ENV]: JSON.stringify(params) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    // 'close', not 'exit': only then has all of its output been read.
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

for (const crashAt of WITHDRAWAL_CRASH_POINTS) {
  test.serial(`power loss at ${crashAt}: recovery leaves the ledger, the holds and the cash counters in agreement`, async (t) => {
    const host = await startTestHost({ operations: createBankingOperations({ scryptCost: FAST_SCRYPT }) });
    const journalDir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-power-loss-'));
    const dispenserPair = await openPtyPair();
    const printerPair = await openPtyPair();
    const retracts = RETRACT_STEPS.has(crashAt);
    const dispenser = await DispenserSimulator.start({
      path: dispenserPair.devicePath,
      cassettes: CASSETTES.map((c) => ({ ...c })),
      baudRate: 115_200,
      ...(retracts ? { takeNotesAfterMs: null } : {}),
    });
    const printer = await PrinterSimulator.start({ path: printerPair.devicePath, baudRate: 115_200 });
    let kiosk: KioskController | undefined;
    t.teardown(async () => {
      await kiosk?.stop();
      await dispenser.stop();
      await printer.stop();
      await dispenserPair.close();
      await printerPair.close();
      await host.close();
      await rm(journalDir, { recursive: true, force: true });
    });
    const services = host.host.state.services;
    const kShared = await host.addDevice(KIOSK_ID);
    const customer = await addCustomer(services, 'dana', PASSWORD, { scryptCost: FAST_SCRYPT });
    const teller = await host.connectedClient('teller-dana');
    await teller.request('signin.password', { username: 'dana', password: PASSWORD });
    await clientDeposit(teller, customer.accountId, FUNDED_CENTS);

    const config = kioskConfigFor(host.port, journalDir, dispenserPair.hostPath, printerPair.hostPath);
    const run = await runUntilKilled({ config, kSharedHex: kShared.toString('hex'), username: 'dana', password: PASSWORD, amountCents: AMOUNT_CENTS, crashAt, ...(retracts ? { cashTakeTimeoutMs: 500 } : {}) });
    t.is(run.signal, 'SIGKILL', run.output);

    const dispensedCents = dispenser.lifetimeDispensed.reduce((sum, n, i) => sum + n * CASSETTES[i]!.denominationCents, 0);
    t.is(dispensedCents, NOTES_OUT.has(crashAt) ? AMOUNT_CENTS : 0);
    const before = await KioskJournal.open(journalDir);
    const unfinishedBefore = before.unfinishedWithdrawals().length;
    await before.close();
    t.is(unfinishedBefore, 1, 'the killed kiosk left its withdrawal unfinished in the journal');

    // The restarted kiosk: recovery runs in start(), before it serves anyone.
    kiosk = new KioskController({ config, kShared, clientLimits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200 }, deviceCheckIntervalMs: 200 });
    await kiosk.start();
    const outOfService = kiosk.outOfServiceReasons();
    const screen = kiosk.snapshot().screen;

    const ledger = await checkLedger(services.db);
    const openHolds = await listHolds(services);
    const balance = await teller.request('balance', { accountId: customer.accountId });
    const chargedCents = FUNDED_CENTS - balance.balanceCents;
    // Retracted notes are back in the machine (its bin): the customer is charged for none of them.
    const retractedCents = retracts ? AMOUNT_CENTS : 0;
    const dispensedAfterCents = dispenser.lifetimeDispensed.reduce((sum, n, i) => sum + n * CASSETTES[i]!.denominationCents, 0);
    // One row per crash point in the reliability table (npm run test:reliability), written before the checks.
    await recordScenarioResult({
      scenario: 'kiosk power loss at each withdrawal step',
      part: crashAt,
      iterations: 1,
      faultsInjected: run.signal === 'SIGKILL' ? 1 : 0,
      acknowledged: outOfService.length === 0 ? 1 : 0,
      lost: openHolds.length + (chargedCents < dispensedCents - retractedCents ? 1 : 0),
      duplicated: (chargedCents > dispensedCents - retractedCents ? 1 : 0) + (dispensedAfterCents > dispensedCents ? 1 : 0),
      invariantViolations: (ledger.ok ? 0 : 1) + (outOfService.length === 0 && screen === 'welcome' ? 0 : 1) + (balance.availableCents === balance.balanceCents ? 0 : 1),
    });
    t.deepEqual(outOfService, []);
    t.is(screen, 'welcome');
    t.true(ledger.ok, JSON.stringify(ledger.problems));
    t.deepEqual(openHolds, []);
    t.is(chargedCents, dispensedCents - retractedCents, 'the customer is charged exactly what left the dispenser and was not taken back');
    t.is(dispenser.retractBinCount, retracts ? RETRACTED_NOTES : 0);
    t.is(dispenser.presentedNotes, 0, 'no notes left waiting in the presenter');
    t.is(balance.availableCents, balance.balanceCents);
    // The dispenser was never asked to dispense again.
    t.is(dispensedAfterCents, dispensedCents);
    teller.close();
  });
}
