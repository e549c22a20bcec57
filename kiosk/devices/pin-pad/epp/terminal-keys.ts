// The EPP simulator's terminal keypad (simulator-cli.ts): which pad key a key press stands for.
import type { EppKey } from './simulator.js';

/** The pad key a terminal key press stands for, if any. */
export function keyOfTerminal(sequence: string | undefined, name: string | undefined): EppKey | 'quit' | undefined {
  if (sequence !== undefined && /^[0-9]$/.test(sequence)) return sequence as EppKey;
  switch (name) {
    case 'return':
    case 'enter':
      return 'enter';
    case 'escape':
      return 'cancel';
    case 'backspace':
      return 'correct';
    case 'f1':
    case 'f2':
    case 'f3':
    case 'f4':
      return `F${name.slice(1)}` as EppKey;
    case 'q':
      return 'quit';
    default:
      return undefined;
  }
}
