// `bank-host device add|rotate --key-out FILE` cannot half-succeed: the key file is written (exclusively,
// owner-only, synced) before the host takes the key. When the file cannot be written (its folder is missing,
// it exists, the folder may not be written) the host has no new device, or is still on the old key version,
// and the audit log says the command failed; when the host refuses the key, the file is removed; when both
// work, the file holds exactly the key the host has.
import test from 'ava';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseKeyTransport } from '../../protocol/key-transport.js';
import { sendAdminCommand } from '../../bank-host/admin/socket.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { startTestHost, type TestHost } from '../helpers/host.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env: {}, readSecret: async () => '' };
  const code = await main(argv, io);
  return { code, out, err };
}

async function deviceRecords(h: TestHost, deviceId: string) {
  const { db, keys } = h.host.state.services;
  const page = await readAuditPage(db, keys.auditEnc, { order: 'asc', limit: 1_000, scanLimit: 10_000, deviceId });
  return page.entries.filter((entry) => entry.action === 'device.add' || entry.action === 'device.rotate');
}

/** A place the CLI cannot write a file, and the system error it gets. As root, permissions do not stop a
 *  write to a folder, so the test uses sysfs, where nobody may create a file. */
async function unwritable(dir: string): Promise<{ file: string; errors: readonly string[] }> {
  if (process.getuid?.() === 0) return { file: '/sys/kernel/atm-test-kiosk.key', errors: ['EACCES', 'EPERM', 'EROFS'] };
  const locked = path.join(dir, 'locked');
  await mkdir(locked, { mode: 0o500 });
  await chmod(locked, 0o500);
  return { file: path.join(locked, 'kiosk.key'), errors: ['EACCES'] };
}

async function setup(t: import('ava').ExecutionContext) {
  const h = await startTestHost();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'key-out-'));
  t.teardown(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { h, dir, where: ['--admin-socket', h.adminSocket] };
}

const cases = [
  { name: 'its folder is missing', target: async (dir: string) => ({ file: path.join(dir, 'missing', 'kiosk.key'), errors: ['ENOENT'] }) },
  {
    name: 'it exists',
    target: async (dir: string) => {
      const file = path.join(dir, 'existing.key');
      await writeFile(file, 'an earlier key file\n');
      return { file, errors: ['EEXIST'] };
    },
  },
  { name: 'its folder may not be written', target: unwritable },
] as const;

for (const { name, target } of cases) {
  test(`device add with a --key-out that cannot be written (${name}) adds nothing, and the log says it failed`, async (t) => {
    const { h, dir, where } = await setup(t);
    const { file, errors } = await target(dir);
    const before = await readFile(file, 'utf8').catch(() => undefined);
    const run = await cli(['device', 'add', 'kiosk-nokey', '--key-out', file, ...where]);
    t.is(run.code, 1, run.err);
    t.regex(run.err, /KEY_OUT_FAILED/);
    t.is(h.host.state.registry.get('kiosk-nokey'), undefined, 'the host has no new device');
    t.is(await readFile(file, 'utf8').catch(() => undefined), before, 'the file is as it was');
    const records = await deviceRecords(h, 'kiosk-nokey');
    t.is(records.length, 1);
    t.like(records[0], { action: 'device.add', outcome: 'failed', reason: 'KEY_OUT_FAILED', actor: 'operator' });
    t.true(errors.includes(String(records[0]!.detail?.error)), `recorded error ${String(records[0]!.detail?.error)}`);
  });

  test(`device rotate with a --key-out that cannot be written (${name}) keeps the old key, and the log says it failed`, async (t) => {
    const { h, dir, where } = await setup(t);
    const key = await h.addDevice('kiosk-keep');
    const { file } = await target(dir);
    const run = await cli(['device', 'rotate', 'kiosk-keep', '--key-out', file, ...where]);
    t.is(run.code, 1, run.err);
    t.like(h.host.state.registry.get('kiosk-keep'), { status: 'active', keyVersion: 1 });
    const lookup = h.host.state.registry.lookupPsk('kiosk-keep');
    t.true(lookup.outcome === 'ok' && lookup.key.equals(key), 'the kiosk keeps working on its key');
    const records = await deviceRecords(h, 'kiosk-keep');
    t.like(records.at(-1), { action: 'device.rotate', outcome: 'failed', reason: 'KEY_OUT_FAILED' });
    t.false(records.some((record) => record.action === 'device.rotate' && record.outcome === 'ok'));
  });
}

test('a key the host refuses does not stay in a file, and a key it takes is the one in the file', async (t) => {
  const { h, dir, where } = await setup(t);
  const first = path.join(dir, 'first.key');
  t.is((await cli(['device', 'add', 'kiosk-twice', '--key-out', first, ...where])).code, 0);
  const written = await parseKeyTransport(await readFile(first, 'utf8'));
  const lookup = h.host.state.registry.lookupPsk('kiosk-twice');
  t.true(lookup.outcome === 'ok' && lookup.key.equals(written.key) && lookup.keyVersion === written.keyVersion);
  // The device exists: the host refuses, and the file written for the refused key is gone.
  const again = path.join(dir, 'again.key');
  const refused = await cli(['device', 'add', 'kiosk-twice', '--key-out', again, ...where]);
  t.is(refused.code, 1);
  t.regex(refused.err, /DEVICE_EXISTS/);
  t.is(await readFile(again, 'utf8').catch((error: NodeJS.ErrnoException) => error.code), 'ENOENT');
  // A rotation made for a version that is not the next one (another rotation came first) is refused.
  const stale = await sendAdminCommand(h.adminSocket, 'device.rotate', { deviceId: 'kiosk-twice', kSharedHex: 'ab'.repeat(32), keyVersion: 5 }).catch((e: unknown) => e);
  t.is((stale as { code?: string }).code, 'KEY_VERSION_CONFLICT');
  t.like(h.host.state.registry.get('kiosk-twice'), { keyVersion: 1 });
  const rotated = path.join(dir, 'rotated.key');
  t.is((await cli(['device', 'rotate', 'kiosk-twice', '--key-out', rotated, ...where])).code, 0);
  const next = await parseKeyTransport(await readFile(rotated, 'utf8'));
  const now = h.host.state.registry.lookupPsk('kiosk-twice');
  t.true(now.outcome === 'ok' && now.key.equals(next.key) && now.keyVersion === 2 && next.keyVersion === 2);
  const outcomes = (await deviceRecords(h, 'kiosk-twice')).map((r) => `${r.action}:${r.outcome}:${r.reason ?? ''}`);
  t.deepEqual(outcomes, ['device.add:ok:', 'device.add:failed:DEVICE_EXISTS', 'device.rotate:failed:KEY_VERSION_CONFLICT', 'device.rotate:ok:']);
});
