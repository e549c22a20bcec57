// A kiosk under test: a real bank host on loopback, the dispenser, printer and note acceptor simulators
// on socat pty pairs driven by the real serial drivers, the HID simulators (real report bytes) for card and PIN, and
// a KioskController assembled from a validated configuration.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { addCustomer, issueCard, type IssuedCard } from '../../../bank-host/customers/admin.js';
import type { ScryptCost } from '../../../bank-host/customers/passwords.js';
import type { HostConfig } from '../../../bank-host/config.js';
import { createHostOperations } from '../../../bank-host/operations/table.js';
import type { OperationTable } from '../../../bank-host/operations/context.js';
import { SimulatedCardReader } from '../../../kiosk/devices/card-reader/card-reader-simulator.js';
import { DispenserSimulator } from '../../../kiosk/devices/dispenser/simulator.js';
import { NoteAcceptorSimulator } from '../../../kiosk/devices/note-acceptor/simulator.js';
import { SimulatedPinPad, type PinPadKey } from '../../../kiosk/devices/pin-pad/pin-pad-simulator.js';
import { PrinterSimulator } from '../../../kiosk/devices/printer/simulator.js';
import { openPtyPair, type PtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { parseKioskConfig, type KioskConfigInput } from '../../../kiosk/core/config.js';
import { KioskController, type KioskControllerOptions } from '../../../kiosk/core/kiosk.js';
import type { KioskSnapshot } from '../../../kiosk/core/ui-contract.js';
import { clientDeposit, startTestHost, type TestHost } from '../../helpers/host.js';
import { createLogger, silentLogger } from '../../../protocol/log.js';
import { writeTestEppIdentityFile } from '../../helpers/epp-vendor.js';
import type { CreatedDevices } from '../../../kiosk/core/devices.js';
import type { EppKey, EppSimulator } from '../../../kiosk/devices/pin-pad/epp/simulator.js';

/** KIOSK_TEST_LOG=1 prints host and kiosk logs while debugging a test. */
const testLog = process.env.KIOSK_TEST_LOG ? createLogger({ level: 'debug', write: (line) => process.stderr.write(line + '\n') }) : silentLogger;

export const FAST_SCRYPT = { log2N: 10, r: 8, p: 1 } as const;
export const KIOSK_ID = 'kiosk-core-test';
export const PASSWORD = 'correct-horse-battery-staple';
export const CASSETTES = [
  { denominationCents: 2_000, count: 100 },
  { denominationCents: 5_000, count: 40 },
];

export interface KioskRig {
  readonly host: TestHost;
  readonly kShared: Buffer;
  readonly kiosk: KioskController;
  readonly dispenser: DispenserSimulator;
  readonly printer: PrinterSimulator;
  /** The note acceptor's simulator (the kiosk's acceptor is the real driver on its pty). */
  readonly acceptor: NoteAcceptorSimulator;
  readonly journalDir: string;
  /** The kiosk's ends of the serial lines (the simulators hold the other ends). */
  readonly linePaths: { readonly dispenser: string; readonly printer: string; readonly noteAcceptor: string };
  readonly cardReader: SimulatedCardReader;
  readonly pinPad: SimulatedPinPad;
  /** The EPP simulator behind the kiosk's pty when the rig runs `pinPad: 'epp-simulated'`. */
  readonly eppSimulator: EppSimulator | undefined;
  /** A customer with a card and `fundedCents` (whole dollars, deposited as notes by a teller kiosk) in
   *  their account. */
  customer(username: string, fundedCents: number, scryptCost?: ScryptCost): Promise<IssuedCard & { username: string; accountId: string }>;
  waitFor(predicate: (s: KioskSnapshot) => boolean, timeoutMs?: number): Promise<KioskSnapshot>;
  /** The last goodbye screen shown (it lasts only `goodbyeMs`, so tests read it from here). */
  lastGoodbye(): KioskSnapshot | undefined;
  /** On the deposit screen with a deposit open: inserts each note into the acceptor simulator and waits
   *  until the kiosk has counted it. */
  insertNotes(valuesCents: readonly number[]): Promise<KioskSnapshot>;
  /** From the menu: deposit these notes into the customer's first account (or `accountId`) and press Done. */
  depositNotes(valuesCents: readonly number[], accountId?: string): Promise<KioskSnapshot>;
  swipe(card: { pan: string; expiresYm: string }): void;
  typePin(pin: string, ...extra: PinPadKey[]): void;
  /** A fresh controller on the same host, devices and journal (a restarted kiosk). */
  restartKiosk(options?: Partial<KioskControllerOptions>): Promise<KioskController>;
  close(): Promise<void>;
}

export interface KioskRigOptions {
  readonly hostConfig?: Partial<HostConfig>;
  readonly kioskOptions?: Partial<KioskControllerOptions>;
  readonly config?: Partial<KioskConfigInput>;
  readonly journalDir?: string;
  readonly host?: TestHost;
  readonly kShared?: Buffer;
  /** Reuse simulators (a restarted kiosk on the same hardware). */
  /** Serial line speed of both simulated devices (real dispensers and printers commonly run 9600). */
  readonly baudRate?: number;
  /** Host operations; the default hashes passwords at a cheap scrypt cost. */
  readonly operations?: OperationTable;
  /** The HID PIN pad simulator (default), or digits touched on the screen. */
  readonly pinPad?: 'simulated' | 'on-screen' | 'epp-simulated';
  /** Time the dispenser simulator takes per note (default 0: instant). */
  readonly dispenserNoteIntervalMs?: number;
  /** When the simulated customer takes presented notes (default 0: at once; null: only on takeNotes()). */
  readonly dispenserTakeNotesAfterMs?: number | null;
  /** A kiosk with no note acceptor configured (the simulator still runs, unconnected). */
  readonly withoutNoteAcceptor?: boolean;
}

/** The identity of the rig's software PIN pad (the demo setting's), certified by the test vendor every
 *  test host trusts; one file for the test process, removed at its exit. */
export const TEST_EPP_IDENTITY_FILE = await writeTestEppIdentityFile();

export function kioskConfigFor(
  port: number,
  journalDir: string,
  dispenserPath: string,
  printerPath: string,
  overrides: Partial<KioskConfigInput> = {},
  baudRate = 115_200,
  pinPad: 'simulated' | 'on-screen' | 'epp-simulated' = 'simulated',
  noteAcceptorPath?: string,
) {
  return parseKioskConfig({
    // The demo setting: the rig's PIN pads are the HID keypad's simulation or the on-screen keypad.
    demoPinEntry: { identityFile: TEST_EPP_IDENTITY_FILE },
    deviceId: KIOSK_ID,
    host: '127.0.0.1',
    port,
    kSharedFile: '/nonexistent/k_shared',
    journalDir,
    devices: {
      cardReader: { kind: 'simulated' },
      pinPad: pinPad === 'epp-simulated' ? { kind: pinPad, identityFile: TEST_EPP_IDENTITY_FILE } : { kind: pinPad },
      dispenser: { kind: 'serial', path: dispenserPath, baudRate },
      printer: { kind: 'serial', path: printerPath, baudRate },
      ...(noteAcceptorPath ? { noteAcceptor: { kind: 'serial', path: noteAcceptorPath, baudRate } } : {}),
    },
    cassettes: CASSETTES,
    timeouts: { idleMs: 60_000, idleWarningMs: 15_000, goodbyeMs: 50 },
    ...overrides,
  });
}

export async function startKioskRig(options: KioskRigOptions = {}): Promise<KioskRig> {
  const host =
    options.host ??
    (await startTestHost({ log: testLog.child({ side: 'host' }), operations: options.operations ?? createHostOperations({ scryptCost: FAST_SCRYPT }), config: { registrationEnabled: true, ...options.hostConfig } }));
  const kShared = options.kShared ?? (await host.addDevice(KIOSK_ID));
  const journalDir = options.journalDir ?? (await mkdtemp(path.join(os.tmpdir(), 'kiosk-journal-')));
  const pairs: PtyPair[] = [await openPtyPair(), await openPtyPair(), await openPtyPair()];
  const dispenser = await DispenserSimulator.start({
    path: pairs[0]!.devicePath,
    cassettes: CASSETTES.map((c) => ({ ...c })),
    baudRate: options.baudRate ?? 115_200,
    ...(options.dispenserNoteIntervalMs !== undefined ? { noteIntervalMs: options.dispenserNoteIntervalMs } : {}),
    ...(options.dispenserTakeNotesAfterMs !== undefined ? { takeNotesAfterMs: options.dispenserTakeNotesAfterMs } : {}),
  });
  const printer = await PrinterSimulator.start({ path: pairs[1]!.devicePath, baudRate: options.baudRate ?? 115_200 });
  const acceptor = await NoteAcceptorSimulator.start({ path: pairs[2]!.devicePath, baudRate: options.baudRate ?? 115_200 });
  const config = kioskConfigFor(
    host.port,
    journalDir,
    pairs[0]!.hostPath,
    pairs[1]!.hostPath,
    options.config,
    options.baudRate,
    options.pinPad,
    options.withoutNoteAcceptor ? undefined : pairs[2]!.hostPath,
  );
  const makeKiosk = (extra: Partial<KioskControllerOptions> = {}) =>
    new KioskController({
      config,
      kShared,
      clientLimits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200, connectTimeoutMs: 1_000 },
      deviceCheckIntervalMs: 200,
      log: testLog.child({ side: 'kiosk' }),
      ...options.kioskOptions,
      ...extra,
    });
  let lastGoodbye: KioskSnapshot | undefined;
  const watch = (controller: KioskController) => {
    controller.on('state', (snapshot) => {
      if (snapshot.screen === 'goodbye') lastGoodbye = snapshot;
    });
    return controller;
  };
  let kiosk = watch(makeKiosk());
  await kiosk.start();
  const rig: KioskRig = {
    host,
    kShared,
    get kiosk() {
      return kiosk;
    },
    dispenser,
    printer,
    acceptor,
    journalDir,
    linePaths: { dispenser: pairs[0]!.hostPath, printer: pairs[1]!.hostPath, noteAcceptor: pairs[2]!.hostPath },
    get cardReader() {
      return kiosk.devices.cardReader as SimulatedCardReader;
    },
    get pinPad() {
      return kiosk.devices.pinPad as SimulatedPinPad;
    },
    get eppSimulator() {
      return (kiosk as unknown as { created?: CreatedDevices }).created?.eppSimulator;
    },
    async customer(username, fundedCents, scryptCost = FAST_SCRYPT) {
      const services = host.host.state.services;
      const added = await addCustomer(services, username, PASSWORD, { scryptCost });
      const card = await issueCard(services, username);
      if (fundedCents > 0) {
        const teller = await host.connectedClient(`teller-${username}`);
        await teller.request('signin.password', { username, password: PASSWORD });
        await clientDeposit(teller, added.accountId, fundedCents);
        teller.close();
      }
      return { ...card, username, accountId: added.accountId };
    },
    waitFor(predicate, timeoutMs = 30_000) {
      const current = kiosk.snapshot();
      if (predicate(current)) return Promise.resolve(current);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          kiosk.off('state', listener);
          reject(new Error(`kiosk state not reached within ${timeoutMs} ms; last: ${JSON.stringify(kiosk.snapshot())}`));
        }, timeoutMs);
        const listener = (snapshot: KioskSnapshot) => {
          if (!predicate(snapshot)) return;
          clearTimeout(timer);
          kiosk.off('state', listener);
          resolve(snapshot);
        };
        kiosk.on('state', listener);
      });
    },
    lastGoodbye: () => lastGoodbye,
    async insertNotes(valuesCents) {
      let snapshot = kiosk.snapshot();
      for (const valueCents of valuesCents) {
        const before = snapshot.view?.kind === 'deposit-counting' ? snapshot.view.totalCents : 0;
        const taken = acceptor.insertNote(valueCents);
        if (taken !== 'escrow') throw new Error(`the acceptor did not hold the ${valueCents}-cent note: ${taken}`);
        snapshot = await rig.waitFor((s) => s.view?.kind === 'deposit-counting' && s.view.totalCents === before + valueCents && !s.view.counting);
      }
      return snapshot;
    },
    async depositNotes(valuesCents, accountId) {
      await kiosk.selectMenu('deposit');
      await kiosk.beginDeposit(accountId);
      if (kiosk.snapshot().view?.kind !== 'deposit-counting') throw new Error(`no deposit opened: ${JSON.stringify(kiosk.snapshot())}`);
      await rig.insertNotes(valuesCents);
      await kiosk.depositDone();
      return kiosk.snapshot();
    },
    swipe(card) {
      const [year, month] = card.expiresYm.split('-').map(Number) as [number, number];
      rig.cardReader.swipe({ pan: card.pan, expiry: { year, month } });
    },
    typePin(pin, ...extra) {
      const epp = rig.eppSimulator;
      // The encrypting PIN pad's keys: Enter, Correct (clears) and Cancel.
      if (epp) epp.press(...([...pin] as EppKey[]), ...extra.map((key): EppKey => (key === 'enter' || key === 'cancel' ? key : 'correct')));
      else rig.pinPad.press(...([...pin] as PinPadKey[]), ...extra);
    },
    async restartKiosk(extra = {}) {
      await kiosk.stop();
      kiosk = watch(makeKiosk(extra));
      await kiosk.start();
      return kiosk;
    },
    async close() {
      await kiosk.stop();
      await dispenser.stop();
      await printer.stop();
      await acceptor.stop();
      for (const pair of pairs) await pair.close();
      if (!options.host) await host.close();
      if (!options.journalDir) await rm(journalDir, { recursive: true, force: true });
    },
  };
  return rig;
}
