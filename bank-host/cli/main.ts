#!/usr/bin/env node
// `bank-host`: the operator's command line. Admin commands go through the running host's admin socket when
// it answers, and open the database directly when the host is stopped; the same command works either way.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, UsageError } from '../errors.js';
import { runAdminCommandLine, type AdminCliCommand } from './admin-command.js';
import { AUDIT_CLI } from './audit-commands.js';
import { CUSTOMER_CLI } from './customer-commands.js';
import { DEPOSIT_CLI } from './deposit-commands.js';
import { DEVICE_CLI } from './device-commands.js';
import { FLEET_CLI, OPERATOR_CLI } from './fleet-commands.js';
import { groupHelp, mainHelp } from './help.js';
import { HOST_CLI, runInit, runServe } from './host-commands.js';
import { readSecretLine, type Io } from './io.js';
import { LEDGER_CLI } from './ledger-commands.js';
import { runMigrate } from './migrate-command.js';

/** Every admin command line, in the order the main help lists them. */
const COMMANDS: readonly AdminCliCommand[] = [...HOST_CLI, ...DEVICE_CLI, ...CUSTOMER_CLI, ...LEDGER_CLI, ...DEPOSIT_CLI, ...FLEET_CLI, ...OPERATOR_CLI, ...AUDIT_CLI];

const MAIN_HELP = mainHelp(COMMANDS.map((c) => c.usage));

/** The project's version, from the package.json beside the sources (bank-host/cli/) or the build
 *  (dist/bank-host/cli/). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'atm-kiosk' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not this one; try the next
    }
  }
  return 'unknown';
}

export async function main(argv: string[], io: Io, signals: NodeJS.EventEmitter = process): Promise<number> {
  try {
    const [first, second] = argv;
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') return io.out(MAIN_HELP), first === undefined ? 2 : 0;
    if (first === '--version') return io.out(`bank-host ${packageVersion()}`), 0;
    if (first === 'init') return await runInit(argv.slice(1), io);
    if (first === 'serve') return await runServe(argv.slice(1), io, signals);
    if (first === 'migrate') return await runMigrate(argv.slice(1), io);
    const spec = COMMANDS.find((c) => c.words[0] === first && (c.words.length === 1 || c.words[1] === second));
    if (!spec) {
      const group = COMMANDS.filter((c) => c.words[0] === first);
      if (group.length > 0 && (second === '--help' || second === '-h')) return io.out(groupHelp(first, group)), 0;
      if (group.length > 0) throw new UsageError(`${first} needs one of: ${group.map((c) => c.words[1]).join(', ')}\n\n${group.map((c) => `  ${c.usage}\t${c.summary}`).join('\n')}`);
      throw new UsageError(`unknown command ${JSON.stringify(first)}\n\n${MAIN_HELP}`);
    }
    return await runAdminCommandLine(spec, argv.slice(spec.words.length), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`bank-host: ${error.message}`);
      return 2;
    }
    io.err(`bank-host: ${describe(error)}`);
    return 1;
  }
}

// Run when executed directly (node dist/bank-host/cli/main.js or tsx bank-host/cli/main.ts).
const invokedPath = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invokedPath.endsWith(path.join('cli', 'main.js')) || invokedPath.endsWith(path.join('cli', 'main.ts')) || invokedPath.endsWith('bank-host')) {
  const io: Io = { out: (t) => process.stdout.write(t + '\n'), err: (t) => process.stderr.write(t + '\n'), env: process.env, readSecret: readSecretLine };
  main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
