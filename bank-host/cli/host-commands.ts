// The commands that start a host: `init` (keys and an empty database) and `serve`, and `status`, which asks
// a serving host (or reports a stopped one).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '../../protocol/log.js';
import { defaultHostConfig, HOST_CONFIG_FILE } from '../config.js';
import { UsageError } from '../errors.js';
import { CONSOLE_DEFAULT_LISTEN } from '../console/console-server.js';
import { BankHost, openHostState, type HostPaths, type ServeOptions } from '../host.js';
import { createHostKeys } from '../keys.js';
import { hostOperations } from '../operations/table.js';
import type { AdminCliCommand } from './admin-command.js';
import { parse, parseListen, resolvePaths } from './arguments.js';
import { INIT_HELP, SERVE_HELP } from './help.js';
import type { Io } from './io.js';

export async function runInit(argv: string[], io: Io): Promise<number> {
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
