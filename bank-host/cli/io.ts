// How the CLI talks to the person running it: its output streams, its environment, and reading a secret
// (a password) that never comes from the command line.
import type { ScryptCost } from '../customers/passwords.js';

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Reads one secret line: from standard input when it is not a terminal, else from a silent prompt. */
  readonly readSecret: (prompt: string) => Promise<string>;
  /** Tests only: a cheap scrypt cost for customers created on a stopped host. */
  readonly scryptCost?: ScryptCost;
}

/** Reads one line from stdin; on a terminal, prompts without echoing what is typed. */
export async function readSecretLine(prompt: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const input = process.stdin;
  const rl = createInterface({ input, output: input.isTTY ? process.stderr : undefined, terminal: input.isTTY === true });
  if (input.isTTY) {
    process.stderr.write(prompt);
    // Mute the echo: readline writes typed characters through _writeToOutput.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  try {
    const line = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    if (input.isTTY) process.stderr.write('\n');
    return line.replace(/\r$/, '');
  } finally {
    rl.close();
  }
}
