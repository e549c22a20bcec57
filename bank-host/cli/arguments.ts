// Reading the command line: options into values (a wrong one is a UsageError with the command's help), where
// the host is, and the typed values some commands take (amounts, durations, times, counts, a listen address).
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import type { HostPaths } from '../host.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly against `options` (plus --help); a wrong option is a UsageError ending in `help`. */
export function parse(argv: string[], options: Options, help: string): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
}

/** Where the host is: flags first, then systemd's directories and $BANK_HOST_ADMIN_SOCKET, all made absolute. */
export function resolvePaths(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Partial<HostPaths> & { adminSocket?: string } {
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

/** `--listen HOST:PORT` (an IPv6 host in brackets). */
export function parseListen(value: string, flag = '--listen'): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 0 || port > 65535) throw new UsageError(`${flag} must be HOST:PORT (port 0-65535), got ${JSON.stringify(value)}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** An amount like `60` or `60.00`, in cents. */
export function parseCents(value: unknown, flag: string): number {
  if (typeof value !== 'string' || !/^\d{1,13}(\.\d{2})?$/.test(value)) throw new UsageError(`${flag} must be an amount like 60 or 60.00`);
  const [whole, fraction = '00'] = value.split('.');
  return Number(whole) * 100 + Number(fraction);
}

/** A duration like `30m`, `12h` or `2d`, in milliseconds. */
export function parseDuration(value: unknown, flag: string): number {
  const match = typeof value === 'string' ? /^(\d{1,9})(s|m|h|d)$/.exec(value) : null;
  if (!match) throw new UsageError(`${flag} must be a duration like 30m, 12h or 2d`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's']!;
}

/** `--since`/`--until`: an ISO 8601 time (`2025-06-15`, `2025-06-15T12:00:00Z`) or milliseconds since the epoch. */
export function parseTime(value: unknown, flag: string): number {
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return Number(value);
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`${flag} must be an ISO 8601 time like 2025-06-15T12:00:00Z, or milliseconds since the epoch`);
  return ms;
}

export function parseCount(value: unknown, flag: string, max: number): number {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new UsageError(`${flag} must be a whole number from 0 to ${max}`);
  return n;
}
