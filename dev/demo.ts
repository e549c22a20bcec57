// `npm start`: the whole product on this machine. Creates demo keys and a demo database under ./demo
// (owner-only), starts the bank host on loopback, enrolls a demo kiosk, creates a demo customer with a card
// and some money, prints how to sign in, and opens the kiosk UI with simulated devices: in Electron when
// its binary is installed, otherwise in Chromium or Chrome as a fullscreen kiosk window through the same
// preload bridge. With no display it says so and keeps the bank host running. Ctrl-C stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { ChannelClient } from '../protocol/client.js';
import { createLogger, type Logger } from '../protocol/log.js';
import type { KioskStatus, NoteCount } from '../protocol/messages.js';
import { formatCents } from '../protocol/money.js';
import { defaultHostConfig, HOST_CONFIG_FILE } from '../bank-host/config.js';
import { addCustomer, issueCard } from '../bank-host/customers/admin.js';
import { listDepositHolds, releaseDepositHoldByOperator } from '../bank-host/ledger/deposit-operator.js';
import { createHostKeys, writeSecretFile } from '../bank-host/keys.js';
import { BankHost, openHostState } from '../bank-host/host.js';
import { hostOperations } from '../bank-host/operations/table.js';
import { KIOSK_CONFIG_FILE, loadKioskConfig, loadKShared, type KioskConfigInput } from '../kiosk/core/config.js';
import { KioskController } from '../kiosk/core/kiosk.js';
import { createSpeech, type SpeechSetup } from '../kiosk/core/speech/speech-setup.js';
import { PinEntry } from '../kiosk/devices/pin-pad/pin-entry.js';
import { isPinPadKeyLabel, pressPinPadKey } from '../kiosk/devices/pin-pad/key-names.js';
import { SimulatedCardReader } from '../kiosk/devices/card-reader/card-reader-simulator.js';
import { runSimulatorCommand } from '../kiosk/devices/note-acceptor/simulator-commands.js';
import type { PrinterSimulator } from '../kiosk/devices/printer/simulator.js';
import { buildRendererInto, displayName, electronBinary, findBrowser, openBrowserKiosk, type BrowserKiosk } from '../kiosk/browser/browser-kiosk.js';
import { ensureDebianPackages } from './debian-packages.js';
import { ensureDemoEpp } from './demo-epp.js';

export const DEMO_DIR = path.resolve(process.env.ATM_DEMO_DIR ?? 'demo');
const DEMO_PORT = Number(process.env.ATM_DEMO_PORT ?? 7443);
const DEMO_DEVICE = 'demo-kiosk';
const DEMO_USER = 'demo';
// A demo password on purpose: printed on screen and saved next to the demo database.
const DEMO_PASSWORD = 'maple-leaf-2026';
/** The demo customer's opening deposit: five $100 notes. */
const DEMO_OPENING_NOTES: readonly NoteCount[] = [{ denominationCents: 10_000, count: 5 }];
/** The demo kiosk's cassettes, in its configuration and in the status its opening deposit reports. */
const DEMO_CASSETTES = [
  { denominationCents: 2_000, count: 200 },
  { denominationCents: 5_000, count: 100 },
] as const;
/** The notes a Canadian kiosk's acceptor takes. */
const DEMO_ACCEPTED_CENTS = [500, 1_000, 2_000, 5_000, 10_000] as const;
/** How often the demo looks for a newly printed receipt to show in the terminal. */
const RECEIPT_POLL_MS = 500;

interface DemoCredentials {
  username: string;
  password: string;
  pan: string;
  pin: string;
  expiresYm?: string;
}

const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      'usage: npm start\n\nRuns the demo: a bank host on 127.0.0.1:7443 with its data under ./demo, an enrolled demo kiosk with\n' +
        'simulated card reader, PIN pad, cash dispenser, receipt printer and note acceptor, and the kiosk UI in a window.\n' +
        'Environment: ATM_DEMO_DIR (default ./demo), ATM_DEMO_PORT (7443), ATM_DEMO_UI=none|browser|electron,\n' +
        'ATM_LOG_LEVEL=debug. Delete the demo folder to start over.\n',
    );
    return;
  }
  const keysDir = path.join(DEMO_DIR, 'keys');
  const dataDir = path.join(DEMO_DIR, 'data');
  const kioskDir = path.join(DEMO_DIR, 'kiosk');
  const kSharedFile = path.join(kioskDir, 'k_shared.key');
  const credentialsFile = path.join(DEMO_DIR, 'demo-customer.json');
  const log = createLogger({ level: process.env.ATM_LOG_LEVEL === 'debug' ? 'debug' : 'info' });

  await mkdir(DEMO_DIR, { recursive: true, mode: 0o700 });
  if (!existsSync(keysDir)) {
    say(`creating demo keys and database in ${DEMO_DIR}`);
    await createHostKeys(keysDir);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dataDir, HOST_CONFIG_FILE), JSON.stringify({ ...defaultHostConfig(), registrationEnabled: true }, null, 2) + '\n', { mode: 0o600 });
  }
  const eppIdentityFile = await ensureDemoEpp(dataDir, kioskDir);
  const state = await openHostState({ dataDir, keysDir }, log);
  const services = state.services;

  if (!state.registry.get(DEMO_DEVICE)) {
    say(`enrolling kiosk ${DEMO_DEVICE}`);
    await mkdir(kioskDir, { recursive: true, mode: 0o700 });
    const kShared = await state.registry.add(DEMO_DEVICE, 'demo');
    await writeSecretFile(kSharedFile, kShared.toString('hex') + '\n', { overwrite: true });
    kShared.fill(0);
  }
  // A demo folder from before PIN keys: the kiosk gets one (its K_SHARED untouched).
  if (state.registry.get(DEMO_DEVICE)?.pinKeyVersion === undefined) await state.registry.rotatePinKey(DEMO_DEVICE, 'demo');
  let credentials: DemoCredentials;
  let fresh = false;
  if (existsSync(credentialsFile)) {
    credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as DemoCredentials;
  } else {
    say(`creating demo customer ${DEMO_USER} with a card`);
    await addCustomer(services, DEMO_USER, DEMO_PASSWORD);
    const card = await issueCard(services, DEMO_USER);
    credentials = { username: DEMO_USER, password: DEMO_PASSWORD, pan: card.pan, pin: card.pin, expiresYm: card.expiresYm };
    await writeSecretFile(credentialsFile, JSON.stringify(credentials, null, 2) + '\n', { overwrite: true });
    fresh = true;
  }

  const adminSocket = path.join(dataDir, 'admin.sock');
  const host = await BankHost.serve(state, { listenHost: '127.0.0.1', listenPort: DEMO_PORT, adminSocketPath: adminSocket, operations: hostOperations });
  if (fresh) {
    // The opening deposit goes through the real channel, as a kiosk would make it: the kiosk reports the
    // notes it handles, the customer signs in, opens a deposit and the acceptor's count is committed.
    const kShared = Buffer.from((await readFile(kSharedFile, 'utf8')).trim(), 'hex');
    const teller = new ChannelClient({ host: '127.0.0.1', port: host.address.port, deviceId: DEMO_DEVICE, kShared, log });
    try {
      teller.start();
      await teller.waitConnected(5_000);
      await teller.request('kiosk.status', demoKioskStatus());
      const session = await teller.request('signin.password', { username: credentials.username, password: credentials.password });
      const { depositId } = await teller.request('deposit.open', { accountId: session.accounts[0]!.accountId });
      const deposit = await teller.request('deposit.commit', { depositId, notes: [...DEMO_OPENING_NOTES] });
      await teller.request('signout', {});
      // The host holds what is beyond its same-day allowance; in the demo an operator has counted the
      // notes, so the customer can spend all of it at once.
      for (const hold of await listDepositHolds(services.db)) {
        if (hold.depositId === depositId) await releaseDepositHoldByOperator(services, hold.holdId);
      }
      say(`demo customer's opening deposit: ${formatCents(deposit.creditedCents)} in notes${deposit.heldCents > 0 ? ', its hold released by the operator' : ''}`);
    } finally {
      teller.close();
      kShared.fill(0);
    }
  }
  const kioskConfigFile = await writeDemoKioskConfig(kioskDir, host.address.port, eppIdentityFile);

  say('');
  say(`bank host serving kiosks on 127.0.0.1:${host.address.port} (TLS 1.3-PSK); admin socket ${adminSocket}`);
  say(`demo kiosk ${DEMO_DEVICE}: configuration ${kioskConfigFile}, K_SHARED in ${kSharedFile}`);
  say(`demo customer: username ${credentials.username}, password ${credentials.password}`);
  say(`demo card: PAN ${credentials.pan}, PIN ${credentials.pin}`);
  say(`operator: node --import tsx bank-host/cli/main.ts customer show demo --admin-socket ${adminSocket}`);

  const kiosk = await startDemoKiosk(kioskConfigFile, credentials, log);
  say('press Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  say('stopping');
  await kiosk.stop();
  await host.close();
}

/** The kiosk's configuration as provisioning would write it, with every device simulated and the PIN
 *  typed on the screen (a laptop has no PIN pad): the explicit demo setting, which a production
 *  configuration and `provision check` refuse. Rewritten on every start so the port is current. */
async function writeDemoKioskConfig(kioskDir: string, port: number, eppIdentityFile: string): Promise<string> {
  await mkdir(path.join(kioskDir, 'journal'), { recursive: true, mode: 0o700 });
  const config: KioskConfigInput = {
    deviceId: DEMO_DEVICE,
    host: '127.0.0.1',
    port,
    kSharedFile: 'k_shared.key',
    journalDir: 'journal',
    devices: { cardReader: { kind: 'simulated' }, pinPad: { kind: 'on-screen' }, dispenser: { kind: 'simulated' }, printer: { kind: 'simulated' }, noteAcceptor: { kind: 'simulated' } },
    cassettes: DEMO_CASSETTES.map((cassette) => ({ ...cassette })),
    demoPinEntry: { identityFile: path.basename(eppIdentityFile) },
    // Speech mode with a simulated headset jack: the console's `headset` plugs it in and out.
    speech: { jack: { kind: 'simulated' } },
  };
  const file = path.join(kioskDir, KIOSK_CONFIG_FILE);
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return file;
}

/** What the demo kiosk reports of itself before the opening deposit (the kiosk reports its own status
 *  again when it starts). */
function demoKioskStatus(): KioskStatus {
  return {
    softwareVersion: '0.1.0-demo',
    inService: true,
    reasons: [],
    devices: [],
    cassettes: DEMO_CASSETTES.map((cassette) => ({ ...cassette })),
    noteAcceptor: { denominationsCents: [...DEMO_ACCEPTED_CENTS], cashbox: [], cashboxCapacityNotes: 1_000 },
    receiptPaper: 'ok',
    pendingTransactions: 0,
  };
}

interface DemoKiosk {
  stop(): Promise<void>;
}

/** Which window the demo opens, and why; `none` keeps only the bank host running. */
async function chooseKioskWindow(): Promise<{ kind: 'electron'; binary: string } | { kind: 'browser'; browserPath: string } | { kind: 'none'; why: string }> {
  const wanted = process.env.ATM_DEMO_UI;
  if (wanted === 'none') return { kind: 'none', why: 'ATM_DEMO_UI=none' };
  const display = displayName();
  if (!display) return { kind: 'none', why: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  const electron = wanted === 'browser' ? undefined : await electronBinary();
  if (electron) return { kind: 'electron', binary: electron };
  if (wanted === 'electron') return { kind: 'none', why: 'ATM_DEMO_UI=electron, but the Electron binary is not installed (npm could not download it)' };
  let browserPath = findBrowser();
  if (!browserPath) {
    const check = ensureDebianPackages(['chromium'], say);
    if (check.kind === 'missing') return { kind: 'none', why: `neither Electron nor Chromium is installed; to get Chromium run as root: ${check.command}` };
    browserPath = findBrowser();
    if (!browserPath) return { kind: 'none', why: 'neither Electron nor Chromium or Chrome is installed' };
  }
  return { kind: 'browser', browserPath };
}

async function startDemoKiosk(configFile: string, credentials: DemoCredentials, log: Logger): Promise<DemoKiosk> {
  const window = await chooseKioskWindow();
  if (window.kind === 'none') {
    say(`no kiosk window: ${window.why}. The bank host keeps running for kiosks and the admin CLI.`);
    return { stop: async () => {} };
  }
  // The simulated dispenser and printer sit on socat pseudo-terminal pairs, exactly like real serial devices.
  const socat = ensureDebianPackages(['socat'], say);
  if (socat.kind === 'missing') {
    say(`no kiosk: its simulated cash dispenser and printer need socat (${socat.why}). Run as root: ${socat.command}`);
    say('the bank host keeps running for kiosks and the admin CLI.');
    return { stop: async () => {} };
  }
  if (window.kind === 'electron') return startElectronKiosk(configFile);

  const kioskLog = log.child({ component: 'kiosk' });
  const config = await loadKioskConfig(configFile);
  const controller = new KioskController({ config, kShared: await loadKShared(config.kSharedFile), log: kioskLog });
  const speech = createSpeech(config, controller, kioskLog);
  const espeak = ensureDebianPackages(['espeak-ng'], say);
  if (espeak.kind === 'missing') say(`speech mode needs espeak-ng (${espeak.why}); run as root: ${espeak.command}`);
  await controller.start();
  speech?.guide.start();
  const rendererDir = path.join(DEMO_DIR, 'renderer');
  say('building the kiosk UI…');
  await buildRendererInto(rendererDir);
  let browser: BrowserKiosk | undefined;
  try {
    browser = await openBrowserKiosk({ controller, browserPath: window.browserPath, rendererDir, log: kioskLog, ...(speech ? { speech: speech.guide } : {}) });
  } catch (error) {
    say(`could not open ${window.browserPath}: ${(error as Error).message.split('\n')[0]}. The bank host and the kiosk keep running.`);
  }
  let stopping = false;
  if (browser) {
    say(`kiosk UI: ${window.browserPath} kiosk window, fullscreen (Electron is not installed here), through the preload bridge; Alt+F4 closes it`);
    void browser.closed.then(() => stopping || say('the kiosk window was closed; the bank host keeps running (Ctrl-C to stop)'));
  }
  const stopConsole = deviceConsole(controller, credentials, speech);
  return {
    async stop() {
      stopping = true;
      stopConsole();
      speech?.guide.stop();
      await browser?.close();
      await controller.stop();
    },
  };
}

/** `npm run start` with the Electron binary installed: Forge builds the bundles and starts Electron with
 *  the demo kiosk's configuration, in a window rather than fullscreen. */
function startElectronKiosk(configFile: string): DemoKiosk {
  say('kiosk UI: Electron (electron-forge start), in an 800×480 window');
  const forge = path.resolve('node_modules/.bin/electron-forge');
  const child: ChildProcess = spawn(forge, ['start'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ATM_KIOSK_CONFIG: configFile, ATM_KIOSK_WINDOWED: '1' } });
  child.on('exit', (code, signal) => say(`the Electron kiosk exited (${signal ?? `code ${code}`}); the bank host keeps running (Ctrl-C to stop)`));
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The demo's stand-in for hands at the kiosk: type `swipe` to swipe the demo card, `insert $20` (and the
 *  note acceptor simulator's other commands) to put notes in the acceptor during a deposit, `headset` to
 *  plug a headset in or out (speech mode) and `key 2 enter` to press PIN pad keys; printed receipts appear
 *  in the terminal. */
function deviceConsole(controller: KioskController, credentials: DemoCredentials, speech: SpeechSetup | undefined): () => void {
  const reader = controller.devices.cardReader;
  const printer: PrinterSimulator | undefined = controller.simulators.printerSimulator;
  const acceptor = controller.simulators.noteAcceptorSimulator;
  const expiry = credentials.expiresYm?.split('-').map(Number);
  say(expiry ? 'type `swipe` and Enter to swipe the demo card at the kiosk; `help` for more' : 'type `help` and Enter for the simulated devices');
  const input = readline.createInterface({ input: process.stdin, terminal: false });
  input.on('line', (line) => {
    const command = line.trim().toLowerCase();
    if (command === 'swipe') {
      if (!(reader instanceof SimulatedCardReader) || !expiry) return say('the demo card cannot be swiped (delete ./demo to recreate it with its expiry)');
      reader.swipe({ pan: credentials.pan, expiry: { year: expiry[0]!, month: expiry[1]! } });
      const keys = `key ${[...credentials.pin].join(' ')} enter`;
      say(`swiped the card ending ${credentials.pan.slice(-4)}; enter PIN ${credentials.pin} on the screen${speech?.guide.view ? ` (or \`${keys}\`)` : ''}`);
    } else if (command === 'headset') {
      const jack = speech?.simulatedJack;
      if (!jack) return say('this kiosk has no simulated headset jack');
      if (jack.plugged) jack.unplug();
      else jack.plug();
      say(jack.plugged ? 'headset plugged in: speech mode (press PIN pad keys with `key`, e.g. `key 2 enter`; `key 9` blanks the screen, `key F1`/`key F2` quieter/louder)' : 'headset unplugged: speech mode off');
    } else if (command.startsWith('key ')) {
      const pad = controller.devices.pinPad;
      const keys = command.slice(4).split(/\s+/).filter((k) => k !== '');
      const unknown = keys.find((k) => !isPinPadKeyLabel(k));
      if (!(pad instanceof PinEntry)) return say('this kiosk has a hardware PIN pad: press its keys');
      if (unknown !== undefined || keys.length === 0) return say(`PIN pad keys: 0-9 enter cancel clear correct F1 F2 (not "${unknown ?? ''}")`);
      for (const key of keys) if (isPinPadKeyLabel(key)) pressPinPadKey(pad, key);
    } else if (command === 'help' || command === '') {
      say('swipe: swipe the demo card · insert $20: a note into the acceptor (during a deposit) · counterfeit · fault jam · clear · headset: plug a headset in or out (speech mode) · key 2 enter: PIN pad keys · Ctrl-C: stop the demo');
    } else if (acceptor && command !== 'quit' && command !== 'exit') {
      // Everything else is the note acceptor simulator's own command set (insert, counterfeit, fault, …).
      say(runSimulatorCommand(acceptor, command).output);
    } else {
      say(`unknown command "${command}"; try help`);
    }
  });
  // The simulator keeps a bounded list of receipts, so new ones are those after the last one shown.
  let lastShown: string[] | undefined = printer?.receipts.at(-1);
  const timer = setInterval(() => {
    if (!printer) return;
    const fresh = printer.receipts.slice(lastShown ? printer.receipts.indexOf(lastShown) + 1 : 0);
    for (const receipt of fresh) process.stderr.write(`\n--- receipt printed at the kiosk ---\n${receipt.join('\n')}\n-----------------------------------\n\n`);
    lastShown = printer.receipts.at(-1) ?? lastShown;
  }, RECEIPT_POLL_MS);
  return () => {
    clearInterval(timer);
    input.close();
  };
}

main().catch((error: Error) => {
  process.stderr.write(`demo: ${error.message}\n`);
  process.exit(1);
});
