// Stand-alone note acceptor simulator for developers and UI tests:
//   tsx kiosk/devices/note-acceptor/simulator-cli.ts --pty
// prints {"noteAcceptorPath": ...} (the path the kiosk opens) on its first line, then takes commands
// typed on standard input (`help` lists them) until `quit`, Ctrl-D at a terminal, SIGINT or SIGTERM.
// `--path /dev/ttyUSB1` serves a real port instead of a pty.

import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { openPtyPair, type PtyPair } from '../serial/pty-pair.js';
import { THREE_BYTE_MODULUS, encodeBillId } from './headers.js';
import { SIMULATOR_HELP, runSimulatorCommand } from './simulator-commands.js';
import { NoteAcceptorSimulator } from './simulator.js';
import { CAD_BILL_IDS, CAD_SCALING } from './simulator-types.js';

function parseBillIds(spec: string): string[] {
  const ids = spec.split(',').map((id) => id.trim());
  for (const id of ids) encodeBillId(id);
  return ids;
}

function parseBoundedInteger(text: string, name: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new Error(`${name} is 0..${max}`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pty: { type: 'boolean', default: false },
      path: { type: 'string' },
      bills: { type: 'string', default: CAD_BILL_IDS.join(',') },
      'escrow-timeout-ms': { type: 'string', default: '30000' },
      'stacker-capacity': { type: 'string', default: '1000' },
      'line-echoes': { type: 'boolean', default: false },
      'accept-counter': { type: 'string', default: '0' },
    },
    strict: true,
  });
  if (values.pty === (values.path !== undefined)) throw new Error('give exactly one of --pty or --path PATH');
  const escrowTimeoutMs = parseBoundedInteger(values['escrow-timeout-ms'], '--escrow-timeout-ms', 600_000);
  const stackerCapacity = parseBoundedInteger(values['stacker-capacity'], '--stacker-capacity', 100_000);
  const acceptCounter = parseBoundedInteger(values['accept-counter'], '--accept-counter', THREE_BYTE_MODULUS - 1);

  let pair: PtyPair | undefined;
  let path = values.path ?? '';
  if (values.pty) {
    pair = await openPtyPair();
    path = pair.devicePath;
  }
  const simulator = await NoteAcceptorSimulator.start({
    path,
    billIds: parseBillIds(values.bills),
    countries: [CAD_SCALING],
    escrowTimeoutMs,
    stackerCapacity,
    acceptCounter,
    lineEchoes: values['line-echoes'],
  });
  process.stdout.write(`${JSON.stringify({ noteAcceptorPath: pair?.hostPath ?? path })}\n`);
  process.stdout.write(`${SIMULATOR_HELP}\n`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await simulator.stop();
      await pair?.close();
      process.exit(0);
    })());
  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on('line', (line) => {
    const result = runSimulatorCommand(simulator, line);
    if (result.output) process.stdout.write(`${result.output}\n`);
    if (result.quit) void stop();
  });
  // Without a terminal (a UI test, a service) standard input may be closed from the start: keep serving.
  lines.on('close', () => {
    if (process.stdin.isTTY) void stop();
  });
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`note acceptor simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
