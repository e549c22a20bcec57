// Power loss at each deposit step: a kiosk process takes notes from the acceptor simulator and is
// SIGKILLed at the step; a new kiosk starts on the same journal, host and acceptor, and must leave the
// customer credited exactly for the notes in the acceptor's stacker (0 lost, 0 duplicated), no deposit
// open at the host, the ledger and the audit chain whole, itself back in service, and deposits offered.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { verifyAuditChain } from '../../../bank-host/audit/verify.js';
import { addCustomer } from '../../../bank-host/customers/admin.js';
import { checkLedger } from '../../../bank-host/ledger/check.js';
import { listOpenDeposits } from '../../../bank-host/ledger/deposit-operator.js';
import { createBankingOperations } from '../../../bank-host/operations/banking.js';
import { DEPOSIT_CRASH_POINTS, type DepositCrashPoint } from '../../../kiosk/core/deposit.js';
import { KioskJournal } from '../../../kiosk/core/journal.js';
import { KioskController } from '../../../kiosk/core/kiosk.js';
import { DispenserSimulator } from '../../../kiosk/devices/dispenser/simulator.js';
import { NoteAcceptorSimulator } from '../../../kiosk/devices/note-acceptor/simulator.js';
import { PrinterSimulator } from '../../../kiosk/devices/printer/simulator.js';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { clientDeposit, eventually, startTestHost } from '../../helpers/host.js';
import { recordScenarioResult } from '../../reliability/results.js';
import { CASSETTES, FAST_SCRYPT, KIOSK_ID, PASSWORD, kioskConfigFor } from './kiosk-rig.js';
import { DEPOSIT_POWER_LOSS_PARAMS_ENV, PER_NOTE_POINTS, type DepositPowerLossParams } from './power-loss-deposit-kiosk.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'power-loss-deposit-kiosk.ts');
const FUNDED_CENTS = 10_000;
/** Inserted in this order: the first is in before the kiosk dies at a per-note step of the second. */
const NOTES_CENTS = [2_000, 5_000];
/** Steps before the acceptor is enabled: no note is inserted. */
const BEFORE_NOTES: ReadonlySet<DepositCrashPoint> = new Set(['journalled-opening', 'host-opened']);
const BAUD = 115_200;

/** Runs the fixture; inserts the notes one at a time as a customer would (each once the one before is
 *  counted) while the acceptor takes notes. */
function runUntilKilled(params: DepositPowerLossParams, acceptor: NoteAcceptorSimulator): Promise<{ signal: NodeJS.Signals | null; code: number | null; output: string; inserted: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      env: { ...process.env, [DEPOSIT_POWER_LOSS_PARAMS_ENV]: JSON.stringify(params) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let inserted = 0;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const feeder = setInterval(() => {
      if (inserted >= NOTES_CENTS.length || !acceptor.masterEnabled || acceptor.noteInEscrow) return;
      if (acceptor.stackedNotes().length < inserted) return;
      const outcome = acceptor.insertNote(NOTES_CENTS[inserted]!);
      if (outcome === 'escrow') inserted++;
    }, 20);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(feeder);
      resolve({ code, signal, output, inserted });
    });
  });
}

for (const crashAt of DEPOSIT_CRASH_POINTS) {
  test.serial(`power loss at ${crashAt}: the customer is credited exactly the notes in the stacker`, async (t) => {
    const host = await startTestHost({ operations: createBankingOperations({ scryptCost: FAST_SCRYPT }) });
    const journalDir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-deposit-power-loss-'));
    const pairs = [await openPtyPair(), await openPtyPair(), await openPtyPair()];
    const dispenser = await DispenserSimulator.start({ path: pairs[0]!.devicePath, cassettes: CASSETTES.map((c) => ({ ...c })), baudRate: BAUD });
    const printer = await PrinterSimulator.start({ path: pairs[1]!.devicePath, baudRate: BAUD });
    const acceptor = await NoteAcceptorSimulator.start({ path: pairs[2]!.devicePath, baudRate: BAUD });
    let kiosk: KioskController | undefined;
    t.teardown(async () => {
      await kiosk?.stop();
      await dispenser.stop();
      await printer.stop();
      await acceptor.stop();
      for (const pair of pairs) await pair.close();
      await host.close();
      await rm(journalDir, { recursive: true, force: true });
    });
    const services = host.host.state.services;
    const kShared = await host.addDevice(KIOSK_ID);
    const customer = await addCustomer(services, 'dana', PASSWORD, { scryptCost: FAST_SCRYPT });
    const teller = await host.connectedClient('teller-dana');
    await teller.request('signin.password', { username: 'dana', password: PASSWORD });
    await clientDeposit(teller, customer.accountId, FUNDED_CENTS);

    const config = kioskConfigFor(host.port, journalDir, pairs[0]!.hostPath, pairs[1]!.hostPath, {}, BAUD, 'simulated', pairs[2]!.hostPath);
    const totalCents = NOTES_CENTS.reduce((a, b) => a + b, 0);
    const run = await runUntilKilled({ config, kSharedHex: kShared.toString('hex'), username: 'dana', password: PASSWORD, totalCents, crashAt }, acceptor);
    t.is(run.signal, 'SIGKILL', run.output);
    t.is(run.inserted, BEFORE_NOTES.has(crashAt) ? 0 : NOTES_CENTS.length, 'the notes inserted before the kill');
    if (PER_NOTE_POINTS.has(crashAt) && (crashAt === 'note-in-escrow' || crashAt === 'journalled-stacking')) {
      t.deepEqual(acceptor.noteInEscrow?.valueCents, NOTES_CENTS[1], 'the second note was still in escrow when the power went');
    }
    const stackedBeforeRestart = acceptor.stackedNotes().reduce((sum, n) => sum + n.valueCents, 0);
    const journal = await KioskJournal.open(journalDir);
    const unfinishedBefore = journal.unfinishedDeposits().length;
    await journal.close();
    t.is(unfinishedBefore, 1, 'the killed kiosk left its deposit unfinished in the journal');

    // The restarted kiosk: recovery runs in start(), before it serves anyone.
    kiosk = new KioskController({ config, kShared, clientLimits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200 }, deviceCheckIntervalMs: 200 });
    await kiosk.start();
    const outOfService = kiosk.outOfServiceReasons();
    // The note found in escrow (if any) goes back to the customer; deposits are offered again.
    await eventually(() => acceptor.noteInEscrow === undefined && kiosk!.snapshot().depositAvailable, 10_000);
    const stackedCents = acceptor.stackedNotes().reduce((sum, n) => sum + n.valueCents, 0);
    const balance = await teller.request('balance', { accountId: customer.accountId });
    const creditedCents = balance.balanceCents - FUNDED_CENTS;
    const ledger = await checkLedger(services.db);
    const audit = await verifyAuditChain(services.db, { enc: services.keys.auditEnc, mac: services.keys.auditMac, sign: services.keys.auditSign });
    const openDeposits = await listOpenDeposits(services.db);
    const after = kiosk.snapshot();
    await recordScenarioResult({
      scenario: 'kiosk power loss at each deposit step',
      part: crashAt,
      iterations: 1,
      faultsInjected: run.signal === 'SIGKILL' ? 1 : 0,
      acknowledged: outOfService.length === 0 ? 1 : 0,
      lost: (creditedCents < stackedCents ? 1 : 0) + openDeposits.length,
      duplicated: creditedCents > stackedCents ? 1 : 0,
      invariantViolations: (ledger.ok ? 0 : 1) + (audit.ok ? 0 : 1) + (outOfService.length === 0 && after.screen === 'welcome' ? 0 : 1),
    });
    t.deepEqual(outOfService, []);
    t.is(after.screen, 'welcome');
    t.true(after.depositAvailable, JSON.stringify(kiosk.status().reasons));
    t.is(stackedCents, stackedBeforeRestart, 'the restarted kiosk stacked nothing more');
    t.is(creditedCents, stackedCents, 'credited exactly the notes in the stacker: 0 lost, 0 duplicated');
    t.is(stackedCents, BEFORE_NOTES.has(crashAt) ? 0 : crashAt === 'note-in-escrow' || crashAt === 'journalled-stacking' ? NOTES_CENTS[0]! : totalCents);
    if (crashAt === 'note-in-escrow' || crashAt === 'journalled-stacking') t.true(acceptor.returnedNotes().some((n) => n.valueCents === NOTES_CENTS[1]), 'the note in escrow went back');
    t.deepEqual(openDeposits, [], 'no deposit left open at the host');
    t.true(ledger.ok, JSON.stringify(ledger.problems));
    t.true(audit.ok, JSON.stringify(audit.problem));
    t.false(acceptor.masterEnabled, 'the restarted kiosk keeps the acceptor disabled until a deposit');
    teller.close();
  });
}
