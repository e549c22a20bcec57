// `bank-host device ...`: registering, listing, revoking and rotating kiosks. A new K_SHARED is written to
// an owner-only file, never printed.
import { existsSync } from 'node:fs';
import { keyCheckValue } from '../../protocol/key-block.js';
import { formatKeyTransport } from '../../protocol/key-transport.js';
import { UsageError } from '../errors.js';
import { writeSecretFile } from '../keys.js';
import type { AdminCliCommand } from './admin-command.js';

/** Writes the new K_SHARED as a transport file (protocol/key-transport.ts: device id, key version, key and
 *  its check value), which `provision enroll|rotate --key-file` checks against the kiosk it installs it on.
 *  The result keeps the check value (shown with --json) and loses the key. */
async function writeKeyOut(result: unknown, values: Record<string, unknown>): Promise<void> {
  const file = values['key-out'] as string;
  const answer = result as { device: { deviceId: string; keyVersion: number }; kSharedHex?: string; kcv?: string };
  const key = Buffer.from(answer.kSharedHex ?? '', 'hex');
  delete answer.kSharedHex;
  try {
    const transport = await formatKeyTransport(answer.device.deviceId, answer.device.keyVersion, key);
    await writeSecretFile(file, transport);
    answer.kcv = await keyCheckValue(key);
  } finally {
    key.fill(0);
  }
}

function requireKeyOut(values: Record<string, unknown>): void {
  const file = values['key-out'];
  if (typeof file !== 'string' || file === '') throw new UsageError('--key-out FILE is required: the new K_SHARED is written there (owner-only), never printed');
  if (existsSync(file)) throw new UsageError(`--key-out ${file} already exists; refusing to overwrite a key file`);
}

const deviceLine = (d: { deviceId: string; status: string; keyVersion: number; updatedAt: string }) =>
  `${d.deviceId}\t${d.status}\tkey v${d.keyVersion}\t${d.updatedAt}`;

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
