// An operator command on the command line: its words, usage and options, how its arguments become the
// admin command's arguments, and how the answer is printed. The command goes through the serving host's
// admin socket when one answers, and runs on the database directly when the host is stopped; the same
// command works either way.
import { createLogger } from '../../protocol/log.js';
import { runAdminCommand, type AdminCommandName } from '../admin/commands.js';
import { probeAdminSocket, sendAdminCommand } from '../admin/socket.js';
import { AdminError, UsageError } from '../errors.js';
import { openHostState, type HostPaths } from '../host.js';
import { parse, resolvePaths, type Options } from './arguments.js';
import { CONNECTION_HELP } from './help.js';
import type { Io } from './io.js';

const CONNECTION_OPTIONS: Options = {
  'admin-socket': { type: 'string' },
  data: { type: 'string' },
  keys: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export interface AdminCliCommand {
  readonly words: readonly string[];
  readonly usage: string;
  readonly summary: string;
  readonly positionals: readonly string[];
  /** How many of `positionals` must be given (default: all of them); the rest may be left out. */
  readonly positionalsRequired?: number;
  readonly options?: Options;
  readonly optionsHelp?: string;
  readonly admin: AdminCommandName;
  args(positionals: string[], values: Record<string, unknown>): Record<string, unknown>;
  /** Runs in the CLI process after the command succeeds (for example to write a checkpoint file). */
  after?(result: unknown, values: Record<string, unknown>): Promise<void>;
  /** Runs the command in place of sending `admin` once: for a command whose work is several admin commands
   *  and files of its own, in an order of its own (a device's key file is written before the host takes
   *  the key). `send` reaches the serving host or the stopped host's database, whichever this run uses. */
  run?(args: Record<string, unknown>, values: Record<string, unknown>, send: SendAdminCommand): Promise<unknown>;
  print(result: unknown): string;
  /** Non-zero when the result itself reports a problem (for example a failed ledger check). */
  exitCode?(result: unknown): number;
  /** Reads a secret (a password) before the command runs; it is never taken from the command line. */
  secret?: { readonly name: string; readonly prompt: string };
}

export type SendAdminCommand = (command: AdminCommandName, args: Record<string, unknown>) => Promise<unknown>;

/** Runs one admin command line (`argv` after the command's words); returns the exit code. */
export async function runAdminCommandLine(spec: AdminCliCommand, argv: string[], io: Io): Promise<number> {
  const help = `Usage: ${spec.usage}\n\n${spec.summary}\n${spec.optionsHelp ? `\n${spec.optionsHelp}\n` : ''}\n${CONNECTION_HELP}`;
  const { values, positionals } = parse(argv, { ...CONNECTION_OPTIONS, ...spec.options }, help);
  if (values.help) return io.out(help), 0;
  if (positionals.length < (spec.positionalsRequired ?? spec.positionals.length) || positionals.length > spec.positionals.length) {
    throw new UsageError(`${spec.words.join(' ')} takes ${spec.positionals.length === 0 ? 'no arguments' : spec.positionals.join(' ')}\n\n${help}`);
  }
  const args = spec.args(positionals, values);
  if (spec.secret) {
    const secret = await io.readSecret(spec.secret.prompt);
    if (secret === '') throw new UsageError(`no ${spec.secret.name} given on standard input`);
    args[spec.secret.name] = secret;
  }
  const paths = resolvePaths(values, io.env);
  let result: unknown;
  const probe = paths.adminSocket ? await probeAdminSocket(paths.adminSocket) : 'absent';
  if (probe === 'denied') {
    throw new AdminError('ADMIN_SOCKET_DENIED', `permission denied on ${paths.adminSocket}: the admin socket is owner-only; run this as the bank host's user or root`);
  }
  const runWith = (send: SendAdminCommand) => (spec.run ? spec.run(args, values, send) : send(spec.admin, args));
  if (probe === 'live' && paths.adminSocket) {
    const socket = paths.adminSocket;
    result = await runWith((command, commandArgs) => sendAdminCommand(socket, command, commandArgs, undefined, io.err));
  } else {
    if (values['admin-socket'] !== undefined && !(paths.dataDir && paths.keysDir)) {
      throw new AdminError('ADMIN_SOCKET_UNAVAILABLE', `nothing answers on ${paths.adminSocket}; is the host running? (or pass --data and --keys to work on a stopped host)`);
    }
    if (!paths.dataDir || !paths.keysDir) throw new UsageError(`no serving host found; pass --admin-socket, or --data and --keys for a stopped host\n\n${help}`);
    // A mistyped --data must not become an empty bank: only `init` creates a database.
    const state = await openHostState(paths as HostPaths, createLogger({ level: 'warn', write: io.err }), { mustExist: true });
    const ctx = { services: state.services, registry: state.registry, progress: io.err, ...(io.scryptCost ? { scryptCost: io.scryptCost } : {}) };
    try {
      result = await runWith((command, commandArgs) => runAdminCommand(ctx, command, commandArgs));
    } finally {
      await state.close();
    }
  }
  await spec.after?.(result, values);
  io.out(values.json ? JSON.stringify(result, null, 2) : spec.print(result));
  return spec.exitCode?.(result) ?? 0;
}
