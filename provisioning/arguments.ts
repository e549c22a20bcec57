// Parsing of the technician's arguments into typed values, once, at the edge. Every refusal says what was
// expected, because the person reading it is at a workbench with an SD card, not the author.
import { isIP } from 'node:net';
import { isDeviceId } from '../protocol/channel.js';
import { HOST_ADDRESSES_MAX } from '../protocol/client.js';

export class UsageError extends Error {}

export interface HostAddress {
  /** A host name or an IP address, IPv6 without brackets (as kiosk.json stores it). */
  readonly host: string;
  readonly port: number;
}

const HOST_NAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

export function parseDeviceId(value: unknown, flag = '--device-id'): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} ID is required`);
  if (!isDeviceId(value)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is not a device id: 3-63 characters of a-z, 0-9 and -, starting with a letter or digit (the id the bank host knows the kiosk by)`,
    );
  }
  return value;
}

/** `bank.example:7443`, `10.0.0.5:7443` or `[2001:db8::5]:7443`. */
export function parseHostAddress(value: unknown, flag = '--host'): HostAddress {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} HOST:PORT is required (where the bank host listens for kiosks, e.g. bank.example:7443)`);
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  const host = match ? (match[1] ?? match[2])! : '';
  const hostOk = match !== null && (match[1] !== undefined ? isIP(host) === 6 : isIP(host) === 4 || HOST_NAME.test(host));
  if (!hostOk || !(port >= 1 && port <= 65_535)) {
    throw new UsageError(`${flag} must be HOST:PORT with a host name or IP address and a port 1-65535 (IPv6 as [addr]:port), got ${JSON.stringify(value)}`);
  }
  return { host, port };
}

/** One `--host` or several (repeated): the bank hosts, in the order the kiosk tries them. */
export function parseHostAddresses(values: unknown, flag = '--host'): HostAddress[] {
  const list = Array.isArray(values) ? values : values === undefined ? [] : [values];
  if (list.length === 0) return [parseHostAddress(undefined, flag)];
  if (list.length > HOST_ADDRESSES_MAX) throw new UsageError(`${flag} is given ${list.length} times; a kiosk knows at most ${HOST_ADDRESSES_MAX} bank hosts`);
  const addresses = list.map((value) => parseHostAddress(value, flag));
  const seen = new Set<string>();
  for (const address of addresses) {
    const text = `${address.host}|${address.port}`;
    if (seen.has(text)) throw new UsageError(`${flag} ${address.host}:${address.port} is given twice`);
    seen.add(text);
  }
  return addresses;
}

export function requirePath(value: unknown, flag: string, what: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} ${what} is required`);
  return value;
}

export function parsePositiveMs(value: unknown, flag: string, maxMs: number): number {
  const ms = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(ms >= 1 && ms <= maxMs)) throw new UsageError(`${flag} must be a whole number of milliseconds from 1 to ${maxMs}`);
  return ms;
}
