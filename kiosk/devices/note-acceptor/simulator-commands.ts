// The typed commands of the note acceptor simulator's terminal (simulator-cli.ts): one line in, one
// answer out. Kept apart from the process plumbing so tests drive it directly.

import { formatCents } from '../../../protocol/money.js';
import { SIMULATOR_FAULT_NAMES, isSimulatorFault } from './simulator-faults.js';
import type { NoteAcceptorSimulator } from './simulator.js';
import type { SimulatedNote } from './simulator-types.js';

export const SIMULATOR_HELP = [
  'commands:',
  '  insert AMOUNT        a genuine note: 2000 (cents) or $20',
  '  counterfeit          a note that fails validation',
  '  unsupported AMOUNT   a genuine note the validator has no bill type for',
  `  fault NAME           one of: ${SIMULATOR_FAULT_NAMES.join(', ')}`,
  '  clear [NAME]         clear one latched fault, or all',
  '  empty-stacker        an operator empties the cashbox',
  '  power-cycle          power lost and back (a note in escrow is returned)',
  '  silent on|off        stop / resume answering the host',
  '  status | stacked | table | help | quit',
].join('\n');

/** Largest amount typed: far above any note, so a typo cannot overflow anything. */
const MAX_TYPED_CENTS = 100_000_000;

/** "2000" is cents; "$20" or "$20.00" is dollars. Integer arithmetic only. */
export function parseAmountCents(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const dollars = /^\$(\d{1,7})(?:\.(\d{2}))?$/.exec(text);
  const cents = dollars ? Number(dollars[1]) * 100 + Number(dollars[2] ?? '0') : /^\d{1,9}$/.test(text) ? Number(text) : undefined;
  return cents !== undefined && cents >= 1 && cents <= MAX_TYPED_CENTS ? cents : undefined;
}

export type CommandResult = { output: string; quit?: true };

export function runSimulatorCommand(sim: NoteAcceptorSimulator, line: string): CommandResult {
  const [command = '', argument, ...rest] = line.trim().split(/\s+/);
  if (rest.length > 0) return { output: `too many arguments; type help` };
  try {
    switch (command) {
      case '':
        return { output: '' };
      case 'help':
        return { output: SIMULATOR_HELP };
      case 'quit':
      case 'exit':
        return { output: 'bye', quit: true };
      case 'insert': {
        const cents = parseAmountCents(argument);
        if (cents === undefined) return { output: 'insert AMOUNT: 2000 (cents) or $20' };
        return { output: `note of ${formatCents(cents)}: ${sim.insertNote(cents)}` };
      }
      case 'counterfeit':
        return { output: `counterfeit note: ${sim.insertCounterfeit()}` };
      case 'unsupported': {
        const cents = parseAmountCents(argument);
        if (cents === undefined) return { output: 'unsupported AMOUNT: 2500 (cents) or $25' };
        return { output: `unsupported note of ${formatCents(cents)}: ${sim.insertUnsupported(cents)}` };
      }
      case 'fault':
        if (!argument || !isSimulatorFault(argument)) return { output: `fault NAME, one of: ${SIMULATOR_FAULT_NAMES.join(', ')}` };
        sim.injectFault(argument);
        return { output: `fault ${argument} injected` };
      case 'clear':
        if (argument !== undefined && !isSimulatorFault(argument)) return { output: `clear [NAME], one of: ${SIMULATOR_FAULT_NAMES.join(', ')}` };
        sim.clearFault(argument);
        return { output: `cleared ${argument ?? 'all faults'}; still active: ${sim.faults.join(', ') || 'none'}` };
      case 'empty-stacker':
        return { output: `took ${describeNotes(sim.emptyStacker())} out of the stacker` };
      case 'power-cycle':
        sim.powerCycle();
        return { output: 'power cycled: counter 0, master inhibit on' };
      case 'silent':
        if (argument !== 'on' && argument !== 'off') return { output: 'silent on|off' };
        sim.setSilent(argument === 'on');
        return { output: `silent ${argument}` };
      case 'stacked':
        return { output: `stacker: ${describeNotes(sim.stackedNotes())}` };
      case 'table':
        return { output: sim.billTable().map((n) => `  type ${n.billType}: ${n.billId} = ${formatCents(n.valueCents)}`).join('\n') };
      case 'status':
        return { output: describeStatus(sim) };
      default:
        return { output: `unknown command "${command}"; type help` };
    }
  } catch (error) {
    return { output: `refused: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function describeStatus(sim: NoteAcceptorSimulator): string {
  const mode = sim.operatingMode;
  return [
    `master: ${sim.masterEnabled ? 'enabled' : 'inhibited'}; enabled bill types: ${sim.enabledBillTypes.join(', ') || 'none'}`,
    `mode: stacker ${mode.useStacker ? 'on' : 'off'}, escrow ${mode.useEscrow ? 'on' : 'off'}`,
    `escrow: ${sim.noteInEscrow ? `${sim.noteInEscrow.billId} (${formatCents(sim.noteInEscrow.valueCents)})` : 'empty'}`,
    `event counter: ${sim.eventCounter}; faults: ${sim.faults.join(', ') || 'none'}`,
    `stacker: ${describeNotes(sim.stackedNotes())}`,
    `accept counter: ${sim.acceptCounter} (notes into the stacker, kept across power cycles)`,
  ].join('\n');
}

function describeNotes(notes: SimulatedNote[]): string {
  const total = notes.reduce((sum, n) => sum + n.valueCents, 0);
  return `${notes.length} note${notes.length === 1 ? '' : 's'}, ${formatCents(total)}`;
}
