// The commands that start a host: `init` (keys and an empty database) and `serve`, and `status`, which asks
// a serving host (or reports a stopped one).
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '../../protocol/log.js';
import { defaultHostConfig, HOST_CONFIG_FILE, postgresStoreConfigSchema } from '../config.js';
import { KeyError, UsageError } from '../errors.js';
import { CONSOLE_DEFAULT_LISTEN } from '../console/console-server.js';
import { BankHost, openHostState, type HostPaths, type ServeOptions } from '../host.js';
import { DATABASE_FOLDER, openHostStore, parseStoreConnectionString } from '../host-store.js';
import { createHostKeys, KEY_FILES, loadHostKeys, loadSecretText } from '../keys.js';
import { hostOperations } from '../operations/table.js';
import type { AdminCliCommand } from './admin-command.js';
import { parse, parseListen, resolvePaths } from './arguments.js';
import { INIT_HELP, SERVE_HELP } from './help.js';
import type { Io } from './io.js';

export async function runInit(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { data: { type: 'string' }, keys: { type: 'string' }, demo: { type: 'boolean' }, store: { type: 'string' }, 'host-id': { type: 'string' }, 'password-credential': { type: 'string' } },
    INIT_HELP,
  );
  if (values.help) return io.out(INIT_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${INIT_HELP}`);
  if (!values.data || !values.keys) throw new UsageError(`init needs --data and --keys\n\n${INIT_HELP}`);
  const dataDir = path.resolve(values.data as string);
  const keysDir = path.resolve(values.keys as string);
  if (values.store !== undefined) return initPostgres(values, dataDir, keysDir, io);
  for (const option of ['host-id', 'password-credential'] as const) {
    if (values[option] !== undefined) throw new UsageError(`--${option} goes with --store\n\n${INIT_HELP}`);
  }
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

/** `init --store postgresql://…`: a host of a bank whose ledger is on PostgreSQL. Its data folder holds
 *  only host.json naming the store; the key folder holds the bank's keys (made here for the bank's first
 *  host, copied from it for every other one: they all seal one audit log) and the role's password. Checks
 *  everything it can before it creates anything, connects (creating the store's tables on an empty
 *  database, checking the audit keys on a used one) and, when that fails, removes what it created. */
async function initPostgres(values: Record<string, unknown>, dataDir: string, keysDir: string, io: Io): Promise<number> {
  const named = parseStoreConnectionString(values.store as string);
  const parsed = postgresStoreConfigSchema.safeParse({
    backend: 'postgresql',
    connectionString: values.store,
    ...(values['host-id'] !== undefined && { hostId: values['host-id'] }),
    ...(values['password-credential'] !== undefined && { passwordCredential: values['password-credential'] }),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${issue.path[0] === 'hostId' ? '--host-id' : issue.path[0] === 'passwordCredential' ? '--password-credential' : '--store'}: ${issue.message}\n\n${INIT_HELP}`);
  }
  const settings = parsed.data;
  const configFile = path.join(dataDir, HOST_CONFIG_FILE);
  if (await exists(configFile)) throw new UsageError(`${configFile} already exists; init writes a new one (edit it to change the store)`);
  if (await exists(path.join(dataDir, DATABASE_FOLDER))) throw new UsageError(`${dataDir} holds a LevelDB host: \`bank-host migrate\` copies it to PostgreSQL`);
  const present = await presentKeyFiles(keysDir);
  const keyCount = Object.keys(KEY_FILES).length;
  if (present.length > 0 && present.length < keyCount) {
    throw new UsageError(`${keysDir} holds ${present.join(', ')} but not every host key: give the folder of the bank's keys, or an empty one for the bank's first host`);
  }
  // Before anything is created: the password must be there (and owner-only) to connect at all.
  await loadSecretText(keysDir, settings.passwordCredential);

  const created: string[] = [];
  const undo = async () => {
    for (const file of created.reverse()) await rm(file, { recursive: true, force: true });
  };
  try {
    if (!(await exists(dataDir))) {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      created.push(dataDir);
    }
    if (present.length === 0) {
      created.push(...Object.values(KEY_FILES).map((file) => path.join(keysDir, file)));
      await createHostKeys(keysDir);
    }
    const written = { store: settings, ...(values.demo === true && { registrationEnabled: true }) };
    await writeFile(configFile, JSON.stringify(written, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    created.push(configFile);
    const keys = await loadHostKeys(keysDir);
    const opened = await openHostStore({ dataDir, keysDir }, defaultHostConfig(written), keys, createLogger({ level: 'error', write: io.err }), Date.now);
    try {
      if (opened.auditRefusal !== undefined) {
        throw new KeyError(`the database's audit log was written with other keys: copy the key folder of the bank's first host to ${keysDir} (every host of a bank shares its keys)`);
      }
    } finally {
      await opened.store.close();
    }
  } catch (error) {
    await undo();
    throw error;
  }
  const where = `${named.addresses.map((a) => `${a.host}:${a.port}`).join(',')}/${named.database} as ${named.user}`;
  io.out(
    `${present.length === 0 ? `created host keys in ${keysDir}` : `using the bank's keys in ${keysDir}`}; wrote ${configFile}: the ledger on PostgreSQL at ${where}, host id ${settings.hostId ?? "the machine's name"}; the store's tables are ready${values.demo === true ? ' (demo: registration enabled)' : ''}`,
  );
  return 0;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The host key files `dir` holds (none when it does not exist). */
async function presentKeyFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const file of Object.values(KEY_FILES)) if (await exists(path.join(dir, file))) found.push(file);
  return found;
}

export async function runServe(argv: string[], io: Io, signals: NodeJS.EventEmitter): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      data: { type: 'string' },
      keys: { type: 'string' },
      listen: { type: 'string' },
      'admin-socket': { type: 'string' },
      'log-level': { type: 'string' },
      'console-listen': { type: 'string' },
      'no-console': { type: 'boolean' },
      'console-tls-cert': { type: 'string' },
      'console-tls-key': { type: 'string' },
    },
    SERVE_HELP,
  );
  if (values.help) return io.out(SERVE_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${SERVE_HELP}`);
  const paths = resolvePaths(values, io.env);
  if (!paths.dataDir || !paths.keysDir) throw new UsageError(`serve needs --data and --keys (or $STATE_DIRECTORY and $CREDENTIALS_DIRECTORY)\n\n${SERVE_HELP}`);
  const level = (values['log-level'] as string | undefined) ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error`);
  const listen = parseListen((values.listen as string | undefined) ?? '127.0.0.1:7443');
  const operatorConsole = consoleOptions(values);
  const log = createLogger({ level: level as 'info', write: io.out });
  // `serve` never makes a bank of a folder `init` did not: a mistyped --data is refused. The one folder it
  // may start empty is the one systemd made for the service (StateDirectory=, given as $STATE_DIRECTORY),
  // which cannot be a typo: the unit's first start creates the database there.
  const systemdStateDirectory = io.env.STATE_DIRECTORY !== undefined && path.resolve(io.env.STATE_DIRECTORY) === paths.dataDir;
  const state = await openHostState(paths as HostPaths, log, { mustExist: !systemdStateDirectory });
  let host: BankHost;
  try {
    host = await BankHost.serve(state, { listenHost: listen.host, listenPort: listen.port, adminSocketPath: paths.adminSocket, operations: hostOperations, ...(operatorConsole && { console: operatorConsole }) });
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

/** The console's listener from `serve`'s flags: on by default, on loopback. */
function consoleOptions(values: Record<string, unknown>): ServeOptions['console'] {
  const cert = values['console-tls-cert'] as string | undefined;
  const key = values['console-tls-key'] as string | undefined;
  if (values['no-console']) {
    if (values['console-listen'] !== undefined || cert !== undefined || key !== undefined) throw new UsageError('--no-console takes no other --console option');
    return undefined;
  }
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--console-tls-cert and --console-tls-key go together');
  const listen = parseListen((values['console-listen'] as string | undefined) ?? CONSOLE_DEFAULT_LISTEN, '--console-listen');
  return { host: listen.host, port: listen.port, ...(cert !== undefined && key !== undefined && { tls: { certFile: path.resolve(cert), keyFile: path.resolve(key) } }) };
}

export const HOST_CLI: readonly AdminCliCommand[] = [
  {
    words: ['status'],
    usage: 'bank-host status',
    summary: 'show whether the host is serving, with its live counters',
    positionals: [],
    admin: 'status',
    args: () => ({}),
    print: (r) => JSON.stringify(r, null, 2),
  },
];
