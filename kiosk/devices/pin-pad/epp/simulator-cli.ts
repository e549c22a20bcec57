// Stand-alone encrypting PIN pad simulator with a keypad in the terminal, for developers and demos:
//   tsx kiosk/devices/pin-pad/epp/simulator-cli.ts --pty --identity FILE
// prints the path the kiosk should open ({ "kind": "epp", "path": … } in kiosk.json), then serves until
// Ctrl-C. Keys: 0-9 digits, Enter, Esc (Cancel), Backspace (Correct), F1-F4 (function keys); the pad
// shows '*' for each digit during PIN entry, as a real one does. The identity (its X25519 key and vendor
// certificate) is a file of its own, owner-only (identity.ts).
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { describe } from '../../../common/errors.js';
import { openPtyPair, type PtyPair } from '../../serial/pty-pair.js';
import { loadEppIdentity } from './identity.js';
import { EppSimulator } from './simulator.js';
import { keyOfTerminal } from './terminal-keys.js';

const HELP = `usage: tsx kiosk/devices/pin-pad/epp/simulator-cli.ts (--pty | --path PATH) --identity FILE

  --pty            make a pty pair with socat and print the end the kiosk opens
  --path PATH      serve on this serial port instead
  --identity FILE  the pad's identity: its X25519 key and its vendor's certificate (owner-only)

Keys: 0-9, Enter, Esc = Cancel, Backspace = Correct, F1-F4; q or Ctrl-C quits.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pty: { type: 'boolean', default: false }, path: { type: 'string' }, identity: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.pty === (values.path !== undefined)) throw new Error(`give exactly one of --pty or --path PATH\n\n${HELP}`);
  if (!values.identity) throw new Error(`--identity FILE is required\n\n${HELP}`);
  const identity = await loadEppIdentity(values.identity);
  let pair: PtyPair | undefined;
  let path = values.path ?? '';
  if (values.pty) {
    pair = await openPtyPair();
    path = pair.devicePath;
  }
  const simulator = await EppSimulator.start({ path, identity });
  process.stdout.write(`${JSON.stringify({ pinPadPath: pair?.hostPath ?? path, serial: identity.serial })}\n`);
  const stop = async () => {
    await simulator.stop();
    await pair?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  if (!process.stdin.isTTY) return;
  readline.emitKeypressEvents(process.stdin);
  process.stdin.setRawMode(true);
  process.stdin.on('keypress', (sequence: string | undefined, key: { name?: string; ctrl?: boolean } | undefined) => {
    if (key?.ctrl && key.name === 'c') return void stop();
    const padKey = keyOfTerminal(sequence, key?.name);
    if (padKey === 'quit') return void stop();
    if (padKey === undefined) return;
    const before = simulator.state;
    simulator.press(padKey);
    // During PIN entry the terminal shows what the pad's display would: a star, never the digit.
    const shown = before === 'pin' && padKey.length === 1 ? '*' : padKey;
    process.stderr.write(`${shown} (${simulator.state})\n`);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`EPP simulator: ${describe(error)}\n`);
  process.exit(1);
});
