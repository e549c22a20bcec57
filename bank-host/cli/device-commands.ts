// `bank-host device ...`: registering, listing, revoking and rotating kiosks. A new K_SHARED is written to
// an owner-only file, never printed.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { isDeviceId } from '../../protocol/channel.js';
import { keyCheckValue } from '../../protocol/key-block.js';
import { formatKeyTransport } from '../../protocol/key-transport.js';
import { PSK_BYTES } from '../../protocol/limits.js';
import { AdminError, errorCode, UsageError } from '../errors.js';
import { writeSecretFile } from '../keys.js';
import type { AdminCliCommand, SendAdminCommand } from './admin-command.js';

/** The host's answers that say it refused the change before writing anything: the key it was offered
 *  exists nowhere else, so its file is removed. After any other failure (no answer, a failed write) the
 *  host may hold the key, and the file stays. */
const REFUSED_BEFORE_WRITING = new Set<string>(['BAD_DEVICE_ID', 'DEVICE_EXISTS', 'DEVICE_UNKNOWN', 'DEVICE_REVOKED', 'KEY_VERSION_CONFLICT', 'BAD_ARGUMENTS']);

/** A new K_SHARED for a device, made here and written to FILE before the host is asked to take it, so that
 *  at every step either the host has nothing new or the file holds the key the host has:
 *   1. the transport file (protocol/key-transport.ts: device id, key version, key and check value, which
 *      `provision enroll|rotate --key-file` checks) is created exclusively, owner-only, and synced: an
 *      existing file, a missing folder or a folder we may not write fails here, the host is told the
 *      command failed (its audit record says so), and nothing changes;
 *   2. the host takes the key (in one synced batch, audited);
 *   3. if the host refused before writing, the file is removed; if its answer was lost, the file stays and
 *      the operator is told how to tell whether the host took it.
 *  The answer carries the key's check value (shown with --json), never the key. */
async function changeKeyWithFile(send: SendAdminCommand, action: 'device.add' | 'device.rotate', deviceId: string, keyVersion: number, file: string): Promise<unknown> {
  const key = randomBytes(PSK_BYTES);
  try {
    // A malformed id is the host's to refuse (and audit); it names no file to write.
    if (!isDeviceId(deviceId)) return await send(action, { deviceId, kSharedHex: key.toString('hex'), keyVersion });
    try {
      await writeSecretFile(file, await formatKeyTransport(deviceId, keyVersion, key));
    } catch (error) {
      // The system's word for it (ENOENT, EACCES, EEXIST, ENOSPC, ...) is what the audit record keeps.
      const code = (error as { systemCode?: string }).systemCode ?? errorCode(error) ?? 'EIO';
      await send('device.key-out-failed', { action, deviceId, error: /^[A-Z0-9_]{1,32}$/.test(code) ? code : 'EIO' });
      throw new AdminError('KEY_OUT_FAILED', `cannot write --key-out ${file} (${(error as Error).message}); the host was not changed`);
    }
    let answer: { device: unknown };
    try {
      answer = (await send(action, { deviceId, kSharedHex: key.toString('hex'), keyVersion })) as { device: unknown };
    } catch (error) {
      if (REFUSED_BEFORE_WRITING.has(errorCode(error) ?? '')) {
        await rm(file, { force: true });
        throw error;
      }
      throw new AdminError(
        errorCode(error) ?? 'FAILED',
        `${(error as Error).message}; it is not known whether the host took the new key: ${file} holds key version ${keyVersion} of ${deviceId}. ` +
          `If \`bank-host device list\` shows ${deviceId} at key v${keyVersion}, that file is its key; otherwise delete the file and run the command again`,
      );
    }
    return { ...answer, kcv: await keyCheckValue(key) };
  } finally {
    key.fill(0);
  }
}

function requireKeyOut(values: Record<string, unknown>): void {
  const file = values['key-out'];
  if (typeof file !== 'string' || file === '') throw new UsageError('--key-out FILE is required: the new K_SHARED is written there (owner-only), never printed');
}

/** The key version a rotation of `deviceId` makes: the one after the host's current one (the host refuses
 *  the key if another rotation came first). An unknown device gets version 1 and the host's refusal. */
async function nextKeyVersion(send: SendAdminCommand, deviceId: string): Promise<number> {
  const { devices } = (await send('device.list', {})) as { devices: { deviceId: string; keyVersion: number }[] };
  return (devices.find((device) => device.deviceId === deviceId)?.keyVersion ?? 0) + 1;
}

type DeviceLine = { deviceId: string; status: string; keyVersion: number; pinKeyVersion?: number; pinKeyKcv?: string; eppSerial?: string; updatedAt: string };
/** One device: its K_SHARED's version, its PIN key's version and check value (what its EPP must report),
 *  the PIN pad enrolled for it. */
const deviceLine = (d: DeviceLine) =>
  `${d.deviceId}\t${d.status}\tkey v${d.keyVersion}\t${d.pinKeyVersion !== undefined ? `PIN key v${d.pinKeyVersion} KCV ${d.pinKeyKcv}` : 'no PIN key'}\t${d.eppSerial !== undefined ? `EPP ${d.eppSerial}` : 'no EPP enrolled'}\t${d.updatedAt}`;
/** The check value of a new K_SHARED, which the technician's `provision` shows too. */
const withKcv = (r: unknown) => ((r as { kcv?: string }).kcv !== undefined ? `\nK_SHARED KCV ${(r as { kcv: string }).kcv}` : '');

export const DEVICE_CLI: readonly AdminCliCommand[] = [
  {
    words: ['device', 'add'],
    usage: 'bank-host device add ID --key-out FILE',
    summary: "register a kiosk and write its new K_SHARED to FILE (owner-only)",
    positionals: ['ID'],
    options: { 'key-out': { type: 'string' } },
    optionsHelp: '  --key-out FILE  where to write the new key (must not exist)',
    admin: 'device.add',
    args: ([id], values) => (requireKeyOut(values), { deviceId: id }),
    run: (args, values, send) => changeKeyWithFile(send, 'device.add', args.deviceId as string, 1, values['key-out'] as string),
    print: (r) => `added ${deviceLine((r as { device: DeviceLine }).device)}${withKcv(r)}`,
  },
  {
    words: ['device', 'list'],
    usage: 'bank-host device list',
    summary: 'list registered kiosks (never their keys)',
    positionals: [],
    admin: 'device.list',
    args: () => ({}),
    print: (r) => {
      const { devices } = r as { devices: DeviceLine[] };
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
    print: (r) => `revoked ${deviceLine((r as { device: DeviceLine }).device)}`,
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
    run: async (args, values, send) => {
      const deviceId = args.deviceId as string;
      return changeKeyWithFile(send, 'device.rotate', deviceId, await nextKeyVersion(send, deviceId), values['key-out'] as string);
    },
    print: (r) => `rotated ${deviceLine((r as { device: DeviceLine }).device)}${withKcv(r)}`,
  },
  {
    words: ['device', 'rotate-pin-key'],
    usage: 'bank-host device rotate-pin-key ID [--replace-epp]',
    summary: "give a kiosk a new PIN encryption key (K_SHARED untouched); its EPP loads it at the next fetch",
    positionals: ['ID'],
    options: { 'replace-epp': { type: 'boolean' } },
    optionsHelp: '  --replace-epp   also forget the enrolled PIN pad: the next one to ask (with a trusted certificate) is enrolled',
    admin: 'device.rotate-pin-key',
    args: ([id], values) => ({ deviceId: id, ...(values['replace-epp'] === true && { replaceEpp: true }) }),
    print: (r) => `rotated PIN key of ${deviceLine((r as { device: DeviceLine }).device)}`,
  },
];
