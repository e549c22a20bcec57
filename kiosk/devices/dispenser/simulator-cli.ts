// Stand-alone dispenser simulator for developers and UI tests:
//   tsx kiosk/devices/dispenser/simulator-cli.ts --pty --cassettes 2000x200,5000x100
// prints the path the kiosk should open, then serves until SIGINT/SIGTERM.

import { parseArgs } from 'node:util';
import { describe } from '../../common/errors.js';
import { openPtyPair, type PtyPair } from '../serial/pty-pair.js';
import { MAX_CASSETTES } from './messages.js';
import { DispenserSimulator, type SimulatedCassette } from './simulator.js';

const CASSETTE_SPEC = /^(\d{1,9})x(\d{1,5})$/;

function parseCassettes(spec: string): SimulatedCassette[] {
  const cassettes = spec.split(',').map((part): SimulatedCassette => {
    const match = CASSETTE_SPEC.exec(part.trim());
    if (!match) throw new Error(`cassette "${part}" is not DENOMINATION_CENTSxCOUNT, e.g. 2000x200`);
    return { denominationCents: Number(match[1]), count: Number(match[2]) };
  });
  if (cassettes.length < 1 || cassettes.length > MAX_CASSETTES) throw new Error(`give 1..${MAX_CASSETTES} cassettes`);
  return cassettes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pty: { type: 'boolean', default: false },
      path: { type: 'string' },
      cassettes: { type: 'string', default: '2000x200,5000x100' },
      'note-interval-ms': { type: 'string', default: '300' },
      'low-note-threshold': { type: 'string', default: '20' },
    },
    strict: true,
  });
  if (values.pty === (values.path !== undefined)) throw new Error('give exactly one of --pty or --path PATH');
  const noteIntervalMs = Number(values['note-interval-ms']);
  const lowNoteThreshold = Number(values['low-note-threshold']);
  if (!Number.isInteger(noteIntervalMs) || noteIntervalMs < 0 || noteIntervalMs > 10_000) throw new Error('--note-interval-ms is 0..10000');
  if (!Number.isInteger(lowNoteThreshold) || lowNoteThreshold < 0) throw new Error('--low-note-threshold is a non-negative integer');

  let pair: PtyPair | undefined;
  let path = values.path ?? '';
  if (values.pty) {
    pair = await openPtyPair();
    path = pair.devicePath;
  }
  const simulator = await DispenserSimulator.start({
    path,
    cassettes: parseCassettes(values.cassettes),
    noteIntervalMs,
    lowNoteThreshold,
  });
  process.stdout.write(`${JSON.stringify({ dispenserPath: pair?.hostPath ?? path })}\n`);
  const stop = async () => {
    await simulator.stop();
    await pair?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`dispenser simulator: ${describe(error)}\n`);
  process.exit(1);
});
