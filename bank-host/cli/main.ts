#!/usr/bin/env node
// `bank-host`: the operator's command line. Admin commands go through the running host's admin socket when
// it answers, and open the database directly when the host is stopped; the same command works either way.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createLogger, type Logger } from '../../protocol/log.js';
import { formatCents } from '../../protocol/money.js';
import { ADMIN_COMMANDS, runAdminCommand, type AdminCommandName } from '../admin/commands.js';
import { AUDIT_CLI } from '../audit/cli-commands.js';
import { probeAdminSocket, sendAdminCommand } from '../admin/socket.js';
import { defaultHostConfig, HOST_CONFIG_FILE } from '../config.js';
import { AdminError, describe, UsageError } from '../errors.js';
import { createHostKeys, writeSecretFile } from '../keys.js';
import { BankHost, openHostState, type HostPaths } from '../host.js';
import { hostOperations } from '../operations/table.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const CONNECTION_OPTIONS: Options = {
  'admin-socket': { type: 'string' },
  data: { type: 'string' },
  keys: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const CONNECTION_HELP = `Where the host is:
  --admin-socket PATH  the serving host's admin socket (default: $BANK_HOST_ADMIN_SOCKET, or DATA/admin.sock)
  --data DIR           the data folder (default: $STATE_DIRECTORY); used directly when the host is stopped
  --keys DIR           the key folder (default: $CREDENTIALS_DIRECTORY)
  --json               print the result as JSON`;

export interface AdminCliCommand {
  readonly words: readonly string[];
  readonly usage: string;
  readonly summary: string;
  readonly positionals: readonly string[];
  readonly options?: Options;
  readonly optionsHelp?: string;
  readonly admin: AdminCommandName;
  args(positionals: string[], values: Record<string, unknown>): Record<string, unknown>;
  /** Runs in the CLI process after the command succeeds (for example to write a key file). */
  after?(result: unknown, values: Record<string, unknown>): Promise<void>;
  print(result: unknown): string;
  /** Non-zero when the result itself reports a problem (for example a failed ledger check). */
  exitCode?(result: unknown): number;
  /** Reads a secret (a password) before the command runs; it is never taken from the command line. */
  secret?: { readonly name: string; readonly prompt: string };
}

async function writeKeyOut(result: unknown, values: Record<string, unknown>): Promise<void> {
  const file = values['key-out'] as string;
  const { kSharedHex } = result as { kSharedHex: string };
  await writeSecretFile(file, kSharedHex + '\n');
  delete (result as { kSharedHex?: string }).kSharedHex;
}

function requireKeyOut(values: Record<string, unknown>): void {
  const file = values['key-out'];
  if (typeof file !== 'string' || file === '') throw new UsageError('--key-out FILE is required: the new K_SHARED is written there (owner-only), never printed');
  if (existsSync(file)) throw new UsageError(`--key-out ${file} already exists; refusing to overwrite a key file`);
}

const deviceLine = (d: { deviceId: string; status: string; keyVersion: number; updatedAt: string }) =>
  `${d.deviceId}\t${d.status}\tkey v${d.keyVersion}\t${d.updatedAt}`;

const ADMIN_CLI: readonly AdminCliCommand[] = [
  {
    words: ['status'],
    usage: 'bank-host status',
    summary: 'show whether the host is serving, with its live counters',
    positionals: [],
    admin: 'status',
    args: () => ({}),
    print: (r) => JSON.stringify(r, null, 2),
  },
  {
    words: ['device', 'add'],
    usage: 'bank-host device add ID --key-out FILE',
    summary: "register a kiosk and write its new K_SHARED to FILE (owner-only)",
    positionals: ['ID'],
    options: { 'key-out': { type: 'string' } },
    optionsHelp: '  --key-out FILE  where to write the new key (must not exist)',
    admin: 'device.add',
    args: ([id], values) => (requireKeyOut(values), { deviceId: id }),
    after: writeKeyOut,
    print: (r) => `added ${deviceLine((r as { device: Parameters<typeof deviceLine>[0] }).device)}`,
  },
  {
    words: ['device', 'list'],
    usage: 'bank-host device list',
    summary: 'list registered kiosks (never their keys)',
    positionals: [],
    admin: 'device.list',
    args: () => ({}),
    print: (r) => {
      const { devices } = r as { devices: Parameters<typeof deviceLine>[0][] };
      return devices.length === 0 ? 'no devices' : devices.map(deviceLine).join('\n');
    },
  },
  {
    words: ['device', 'revoke'],
    usage: 'bank-host device revoke ID',
    summary: 'revoke a kiosk: its handshakes fail and its open connections close',
    positionals: ['ID'],
    admin: 'device.revoke',
    args: ([id]) => ({ deviceId: id }),
    print: (r) => `revoked ${deviceLine((r as { device: Parameters<typeof deviceLine>[0] }).device)}`,
  },
  {
    words: ['device', 'rotate'],
    usage: 'bank-host device rotate ID --key-out FILE',
    summary: "give a kiosk a new K_SHARED, written to FILE; connections on the old key close",
    positionals: ['ID'],
    options: { 'key-out': { type: 'string' } },
    optionsHelp: '  --key-out FILE  where to write the new key (must not exist)',
    admin: 'device.rotate',
    args: ([id], values) => (requireKeyOut(values), { deviceId: id }),
    after: writeKeyOut,
    print: (r) => `rotated ${deviceLine((r as { device: Parameters<typeof deviceLine>[0] }).device)}`,
  },
];

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;


function parseCents(value: unknown, flag: string): number {
  if (typeof value !== 'string' || !/^\d{1,13}(\.\d{2})?$/.test(value)) throw new UsageError(`${flag} must be an amount like 60 or 60.00`);
  const [whole, fraction = '00'] = value.split('.');
  return Number(whole) * 100 + Number(fraction);
}

function parseDuration(value: unknown, flag: string): number {
  const match = typeof value === 'string' ? /^(\d{1,9})(s|m|h|d)$/.exec(value) : null;
  if (!match) throw new UsageError(`${flag} must be a duration like 30m, 12h or 2d`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's']!;
}

interface HoldView { authorizationId: string; deviceId: string; accountId: string; amountCents: number; ageMs: number; cardLast4?: string }

const BANKING_CLI: readonly AdminCliCommand[] = [
  {
    words: ['customer', 'add'],
    usage: 'bank-host customer add USERNAME',
    summary: 'create a customer with a chequing account; the password is read from stdin or a prompt',
    positionals: ['USERNAME'],
    admin: 'customer.add',
    secret: { name: 'password', prompt: 'Password for the new customer: ' },
    args: ([username]) => ({ username }),
    print: (r) => {
      const c = r as { username: string; customerId: string; accountId: string };
      return `added customer ${c.username} (${c.customerId}) with account ${c.accountId}`;
    },
  },
  {
    words: ['customer', 'show'],
    usage: 'bank-host customer show USERNAME',
    summary: "show a customer's accounts, balances and cards (last four digits only)",
    positionals: ['USERNAME'],
    admin: 'customer.show',
    args: ([username]) => ({ username }),
    print: (r) => {
      const c = r as { username: string; customerId: string; accounts: { accountId: string; kind: string; balanceCents: number; availableCents: number }[]; cards: { cardLast4: string; status: string; expiresYm: string; pinTriesFailed: number }[]; lockedUntilMs: number };
      return [
        `${c.username} (${c.customerId})${c.lockedUntilMs > Date.now() ? ` locked until ${new Date(c.lockedUntilMs).toISOString()}` : ''}`,
        ...c.accounts.map((a) => `  account ${a.accountId}\t${a.kind}\tbalance ${formatCents(a.balanceCents)}\tavailable ${formatCents(a.availableCents)}`),
        ...c.cards.map((k) => `  card •••• ${k.cardLast4}\t${k.status}\texpires ${k.expiresYm}\tfailed PIN tries ${k.pinTriesFailed}`),
      ].join('\n');
    },
  },
  {
    words: ['account', 'open'],
    usage: 'bank-host account open USERNAME [--kind chequing|savings]',
    summary: 'open another account for a customer',
    positionals: ['USERNAME'],
    options: { kind: { type: 'string' } },
    optionsHelp: '  --kind KIND  chequing (default) or savings',
    admin: 'account.open',
    args: ([username], values) => {
      if (values.kind !== undefined && values.kind !== 'chequing' && values.kind !== 'savings') throw new UsageError('--kind must be chequing or savings');
      return { username, ...(values.kind ? { kind: values.kind } : {}) };
    },
    print: (r) => `opened account ${(r as { accountId: string }).accountId}`,
  },
  {
    words: ['card', 'issue'],
    usage: 'bank-host card issue USERNAME [--account ID]',
    summary: 'issue a card; prints its PAN and a random PIN once (hand them to the customer)',
    positionals: ['USERNAME'],
    options: { account: { type: 'string' } },
    optionsHelp: "  --account ID  link the card to this account (default: the customer's first account)",
    admin: 'card.issue',
    args: ([username], values) => ({ username, ...(values.account ? { accountId: values.account } : {}) }),
    print: (r) => {
      const c = r as { pan: string; pin: string; expiresYm: string };
      return `issued card ${c.pan} expiring ${c.expiresYm}\nPIN ${c.pin}\n(shown once; it is not stored in clear anywhere)`;
    },
  },
  {
    words: ['card', 'block'],
    usage: 'bank-host card block PAN',
    summary: 'block a card',
    positionals: ['PAN'],
    admin: 'card.block',
    args: ([pan]) => ({ pan }),
    print: (r) => `card •••• ${(r as { cardLast4: string }).cardLast4} is blocked`,
  },
  {
    words: ['card', 'unblock'],
    usage: 'bank-host card unblock PAN',
    summary: 'unblock a card and reset its failed PIN tries',
    positionals: ['PAN'],
    admin: 'card.unblock',
    args: ([pan]) => ({ pan }),
    print: (r) => `card •••• ${(r as { cardLast4: string }).cardLast4} is active`,
  },
  {
    words: ['holds', 'list'],
    usage: 'bank-host holds list [--older-than DURATION | --all]',
    summary: "list withdrawal holds no kiosk completed or reversed within the host's holdAttentionAfterMs (default 30 min)",
    positionals: [],
    options: { 'older-than': { type: 'string' }, all: { type: 'boolean' } },
    optionsHelp: '  --older-than D  holds at least this old instead (30m, 12h, 2d)\n  --all           every open hold, however young',
    admin: 'holds.list',
    args: (_, values) => {
      if (values.all && values['older-than'] !== undefined) throw new UsageError('--all and --older-than exclude each other');
      if (values.all) return { all: true };
      return values['older-than'] !== undefined ? { olderThanMs: parseDuration(values['older-than'], '--older-than') } : {};
    },
    print: (r) => {
      const { holds, openHolds, olderThanMs } = r as { holds: HoldView[]; openHolds: number; olderThanMs?: number };
      const younger = openHolds - holds.length;
      const note = olderThanMs !== undefined && younger > 0 ? `${younger} younger than ${minutes(olderThanMs)} not shown (--all lists them)` : '';
      if (holds.length === 0) return openHolds === 0 ? 'no open holds' : `no holds open longer than ${minutes(olderThanMs ?? 0)}; ${note}`;
      const lines = holds.map((h) => `${h.authorizationId}\t${h.deviceId}\t${h.accountId}\t${formatCents(h.amountCents)}\t${minutes(h.ageMs)}${h.cardLast4 ? `\tcard •••• ${h.cardLast4}` : ''}`);
      return [...lines, ...(note ? [note] : [])].join('\n');
    },
  },
  {
    words: ['holds', 'complete'],
    usage: 'bank-host holds complete AUTHORIZATION [--dispensed AMOUNT]',
    summary: 'settle a hold as dispensed (all of it, or AMOUNT) and release the rest',
    positionals: ['AUTHORIZATION'],
    options: { dispensed: { type: 'string' } },
    optionsHelp: '  --dispensed AMOUNT  what the kiosk really paid out, e.g. 40.00 (default: the whole hold)',
    admin: 'holds.complete',
    args: ([authorizationId], values) => ({ authorizationId, ...(values.dispensed !== undefined ? { dispensedCents: parseCents(values.dispensed, '--dispensed') } : {}) }),
    print: (r) => {
      const s = r as { authorizationId: string; postedCents: number; releasedCents: number };
      return `${s.authorizationId}: posted ${formatCents(s.postedCents)}, released ${formatCents(s.releasedCents)}`;
    },
  },
  {
    words: ['holds', 'reverse'],
    usage: 'bank-host holds reverse AUTHORIZATION',
    summary: 'release a hold: nothing was dispensed',
    positionals: ['AUTHORIZATION'],
    admin: 'holds.reverse',
    args: ([authorizationId]) => ({ authorizationId }),
    print: (r) => {
      const s = r as { authorizationId: string; releasedCents: number };
      return `${s.authorizationId}: released ${formatCents(s.releasedCents)}`;
    },
  },
  {
    words: ['ledger', 'check'],
    usage: 'bank-host ledger check',
    summary: 'recompute every balance from the journal and check the double-entry invariant (exit 1 on any problem)',
    positionals: [],
    admin: 'ledger.check',
    args: () => ({}),
    exitCode: (r) => ((r as { ok: boolean }).ok ? 0 : 1),
    print: (r) => {
      const l = r as { ok: boolean; accounts: number; postingLegs: number; openHolds: number; totalBalanceCents: number; customerBalanceCents: number; cashBalanceCents: number; problems: { kind: string; message: string }[] };
      return [
        `${l.ok ? 'ledger OK' : `LEDGER PROBLEMS: ${l.problems.length}`}: ${l.accounts} accounts, ${l.postingLegs} posting legs, ${l.openHolds} open holds`,
        `customer balances ${formatCents(l.customerBalanceCents)}, cash accounts ${formatCents(l.cashBalanceCents)}, sum ${formatCents(l.totalBalanceCents)}`,
        ...l.problems.map((p) => `  ${p.kind}: ${p.message}`),
      ].join('\n');
    },
  },
];

const MAIN_HELP = `bank-host: the ATM bank host and its operator commands

Usage:
  bank-host init --data DIR --keys DIR [--demo]
  bank-host serve --data DIR --keys DIR [--listen HOST:PORT] [--admin-socket PATH]
${[...ADMIN_CLI, ...BANKING_CLI, ...AUDIT_CLI].map((c) => `  ${c.usage}`).join('\n')}

Run \`bank-host COMMAND --help\` for a command's options.`;

const INIT_HELP = `Usage: bank-host init --data DIR --keys DIR [--demo]

Creates an empty database in DIR and fresh host keys (owner-only files) in the key folder.
Refuses to overwrite existing keys.
  --data DIR   the data folder to create
  --keys DIR   the key folder to create (master, PIN verification and audit keys)
  --demo       also write ${HOST_CONFIG_FILE} with kiosk registration enabled`;

const SERVE_HELP = `Usage: bank-host serve --data DIR --keys DIR [--listen HOST:PORT] [--admin-socket PATH]

Serves kiosks over TLS 1.3-PSK until SIGTERM or SIGINT, then stops gracefully.
  --data DIR            the data folder (default: $STATE_DIRECTORY)
  --keys DIR            the key folder (default: $CREDENTIALS_DIRECTORY)
  --listen HOST:PORT    where kiosks connect (default: 127.0.0.1:7443)
  --admin-socket PATH   the owner-only admin socket (default: DATA/admin.sock)
  --log-level LEVEL     debug, info, warn or error (default: info)`;

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Reads one secret line: from standard input when it is not a terminal, else from a silent prompt. */
  readonly readSecret: (prompt: string) => Promise<string>;
  /** Tests only: a cheap scrypt cost for customers created on a stopped host. */
  readonly scryptCost?: import('../customers/passwords.js').ScryptCost;
}

function parse(argv: string[], options: Options, help: string): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
}

function resolvePaths(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Partial<HostPaths> & { adminSocket?: string } {
  const dataDir = (values.data as string | undefined) ?? env.STATE_DIRECTORY;
  const keysFromCredentials = values.keys === undefined && env.CREDENTIALS_DIRECTORY !== undefined;
  const keysDir = (values.keys as string | undefined) ?? env.CREDENTIALS_DIRECTORY;
  const adminSocket =
    (values['admin-socket'] as string | undefined) ?? env.BANK_HOST_ADMIN_SOCKET ?? (dataDir ? path.join(dataDir, 'admin.sock') : undefined);
  return {
    ...(dataDir ? { dataDir: path.resolve(dataDir) } : {}),
    ...(keysDir ? { keysDir: path.resolve(keysDir) } : {}),
    keysFromCredentials,
    ...(adminSocket ? { adminSocket: path.resolve(adminSocket) } : {}),
  };
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 0 || port > 65535) throw new UsageError(`--listen must be HOST:PORT (port 0-65535), got ${JSON.stringify(value)}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

async function runInit(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: 'string' }, keys: { type: 'string' }, demo: { type: 'boolean' } }, INIT_HELP);
  if (values.help) return io.out(INIT_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${INIT_HELP}`);
  if (!values.data || !values.keys) throw new UsageError(`init needs --data and --keys\n\n${INIT_HELP}`);
  const dataDir = path.resolve(values.data as string);
  const keysDir = path.resolve(values.keys as string);
  await createHostKeys(keysDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (values.demo) {
    await writeFile(path.join(dataDir, HOST_CONFIG_FILE), JSON.stringify({ ...defaultHostConfig(), registrationEnabled: true }, null, 2) + '\n', { mode: 0o600 });
  }
  const state = await openHostState({ dataDir, keysDir }, createLogger({ level: 'warn' }));
  await state.close();
  io.out(`created the database in ${dataDir} and host keys in ${keysDir}${values.demo ? ' (demo: registration enabled)' : ''}`);
  return 0;
}

async function runServe(argv: string[], io: Io, signals: NodeJS.EventEmitter): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { data: { type: 'string' }, keys: { type: 'string' }, listen: { type: 'string' }, 'admin-socket': { type: 'string' }, 'log-level': { type: 'string' } },
    SERVE_HELP,
  );
  if (values.help) return io.out(SERVE_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${SERVE_HELP}`);
  const paths = resolvePaths(values, io.env);
  if (!paths.dataDir || !paths.keysDir) throw new UsageError(`serve needs --data and --keys (or $STATE_DIRECTORY and $CREDENTIALS_DIRECTORY)\n\n${SERVE_HELP}`);
  const level = (values['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error`);
  const listen = parseListen((values.listen as string | undefined) ?? '127.0.0.1:7443');
  const log = createLogger({ level: level as 'info', write: io.out });
  const state = await openHostState(paths as HostPaths, log);
  let host: BankHost;
  try {
    host = await BankHost.serve(state, { listenHost: listen.host, listenPort: listen.port, adminSocketPath: paths.adminSocket, operations: hostOperations });
  } catch (error) {
    await state.close();
    throw error;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info('stopping', { signal });
      resolve();
    };
    signals.once('SIGTERM', () => stop('SIGTERM'));
    signals.once('SIGINT', () => stop('SIGINT'));
  });
  await host.close();
  return 0;
}

async function runAdmin(spec: AdminCliCommand, argv: string[], io: Io): Promise<number> {
  const help = `Usage: ${spec.usage}\n\n${spec.summary}\n${spec.optionsHelp ? `\n${spec.optionsHelp}\n` : ''}\n${CONNECTION_HELP}`;
  const { values, positionals } = parse(argv, { ...CONNECTION_OPTIONS, ...spec.options }, help);
  if (values.help) return io.out(help), 0;
  if (positionals.length !== spec.positionals.length) {
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
  if (probe === 'live' && paths.adminSocket) {
    result = await sendAdminCommand(paths.adminSocket, spec.admin, args, undefined, io.err);
  } else {
    if (values['admin-socket'] !== undefined && !(paths.dataDir && paths.keysDir)) {
      throw new AdminError('ADMIN_SOCKET_UNAVAILABLE', `nothing answers on ${paths.adminSocket}; is the host running? (or pass --data and --keys to work on a stopped host)`);
    }
    if (!paths.dataDir || !paths.keysDir) throw new UsageError(`no serving host found; pass --admin-socket, or --data and --keys for a stopped host\n\n${help}`);
    const state = await openHostState(paths as HostPaths, createLogger({ level: 'warn', write: io.err }));
    try {
      result = await runAdminCommand(
        { services: state.services, registry: state.registry, progress: io.err, ...(io.scryptCost ? { scryptCost: io.scryptCost } : {}) },
        spec.admin,
        args,
      );
    } finally {
      await state.close();
    }
  }
  await spec.after?.(result, values);
  io.out(values.json ? JSON.stringify(result, null, 2) : spec.print(result));
  return spec.exitCode?.(result) ?? 0;
}

export async function main(argv: string[], io: Io, signals: NodeJS.EventEmitter = process): Promise<number> {
  try {
    const [first, second] = argv;
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') return io.out(MAIN_HELP), first === undefined ? 2 : 0;
    if (first === 'init') return await runInit(argv.slice(1), io);
    if (first === 'serve') return await runServe(argv.slice(1), io, signals);
    const commands = [...ADMIN_CLI, ...BANKING_CLI, ...AUDIT_CLI];
    const spec = commands.find((c) => c.words[0] === first && (c.words.length === 1 || c.words[1] === second));
    if (!spec) {
      const group = commands.filter((c) => c.words[0] === first);
      if (group.length > 0) throw new UsageError(`${first} needs one of: ${group.map((c) => c.words[1]).join(', ')}\n\n${group.map((c) => `  ${c.usage}\t${c.summary}`).join('\n')}`);
      throw new UsageError(`unknown command ${JSON.stringify(first)}\n\n${MAIN_HELP}`);
    }
    return await runAdmin(spec, argv.slice(spec.words.length), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`bank-host: ${error.message}`);
      return 2;
    }
    io.err(`bank-host: ${describe(error)}`);
    return 1;
  }
}

export const ADMIN_COMMAND_NAMES = Object.keys(ADMIN_COMMANDS);

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

// Run when executed directly (node dist/bank-host/cli/main.js or tsx bank-host/cli/main.ts).
const invokedPath = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invokedPath.endsWith(path.join('cli', 'main.js')) || invokedPath.endsWith(path.join('cli', 'main.ts')) || invokedPath.endsWith('bank-host')) {
  const io: Io = { out: (t) => process.stdout.write(t + '\n'), err: (t) => process.stderr.write(t + '\n'), env: process.env, readSecret: readSecretLine };
  main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
