// The device registry on a real database: K_SHARED exists at rest only wrapped under the host master key
// (AES-256-GCM, bound to the device id and key version), and the registry's state survives restarts.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../protocol/log.js';
import { DEVICE_KEY_PREFIX, type DeviceRecord } from '../../bank-host/devices/registry.js';
import { DeviceRegistryError, KeyError } from '../../bank-host/errors.js';
import { openHostState } from '../../bank-host/host.js';
import { createHostKeys, loadHostKeys, unwrapDeviceKey } from '../../bank-host/keys.js';

async function folders(t: { teardown: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'registry-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const paths = { dataDir: path.join(dir, 'data'), keysDir: path.join(dir, 'keys') };
  await createHostKeys(paths.keysDir);
  return paths;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof DeviceRegistryError ? error.code : undefined;
}

test('K_SHARED is stored only wrapped under the master key, never in clear, not even in the LevelDB files', async (t) => {
  const paths = await folders(t);
  const state = await openHostState(paths, silentLogger);
  const kShared = await state.registry.add('kiosk-0001');
  const record = (await state.services.db.get<DeviceRecord>(`${DEVICE_KEY_PREFIX}kiosk-0001`))!;
  t.like(record, { deviceId: 'kiosk-0001', status: 'active', keyVersion: 1 });
  const master = (await loadHostKeys(paths.keysDir)).master;
  t.true(unwrapDeviceKey(master, 'kiosk-0001', 1, record.wrappedKey).equals(kShared));
  await state.close();

  const dbDir = path.join(paths.dataDir, 'db');
  const files = await readdir(dbDir);
  const everything = Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(dbDir, f)))));
  t.true(everything.includes(Buffer.from('kiosk-0001')), 'the record is in these files');
  for (const encoding of ['hex', 'base64'] as const) t.false(everything.includes(Buffer.from(kShared.toString(encoding))), encoding);
  t.false(everything.includes(kShared), 'raw bytes');
});

test('a wrapped key opens only for its own device id and key version', async (t) => {
  const paths = await folders(t);
  const state = await openHostState(paths, silentLogger);
  t.teardown(() => state.close());
  await state.registry.add('kiosk-0001');
  const { wrappedKey } = (await state.services.db.get<DeviceRecord>(`${DEVICE_KEY_PREFIX}kiosk-0001`))!;
  const master = state.services.keys.master;
  t.throws(() => unwrapDeviceKey(master, 'kiosk-0002', 1, wrappedKey), { instanceOf: KeyError });
  t.throws(() => unwrapDeviceKey(master, 'kiosk-0001', 2, wrappedKey), { instanceOf: KeyError });
  t.throws(() => unwrapDeviceKey(randomBytes(32), 'kiosk-0001', 1, wrappedKey), { instanceOf: KeyError });
});

test('a host started with another master key refuses to start, without showing any key', async (t) => {
  const paths = await folders(t);
  const state = await openHostState(paths, silentLogger);
  await state.registry.add('kiosk-0001');
  await state.close();
  const otherMaster = randomBytes(32).toString('hex');
  await writeFile(path.join(paths.keysDir, 'master.key'), otherMaster + '\n', { mode: 0o600 });
  const error = await t.throwsAsync(openHostState(paths, silentLogger), { instanceOf: KeyError });
  t.regex(error!.message, /kiosk-0001 does not verify under this master key/);
  t.false(/[0-9a-f]{64}/i.test(error!.message));
});

test('revocation and rotation are durable: after a restart the registry is as it was left', async (t) => {
  const paths = await folders(t);
  let state = await openHostState(paths, silentLogger);
  await state.registry.add('kiosk-keep');
  await state.registry.add('kiosk-gone');
  const rotated = await state.registry.rotate('kiosk-keep');
  await state.registry.revoke('kiosk-gone');
  await state.close();

  state = await openHostState(paths, silentLogger);
  t.teardown(() => state.close());
  t.like(state.registry.get('kiosk-keep'), { status: 'active', keyVersion: 2 });
  t.like(state.registry.get('kiosk-gone'), { status: 'revoked' });
  const lookup = state.registry.lookupPsk('kiosk-keep');
  t.true(lookup.outcome === 'ok' && lookup.key.equals(rotated));
  t.deepEqual(state.registry.lookupPsk('kiosk-gone'), { outcome: 'revoked' });
  t.deepEqual(state.registry.lookupPsk('kiosk-never'), { outcome: 'unknown' });
  t.false(JSON.stringify(state.registry.list()).includes(rotated.toString('hex')), 'listings never carry a key');
});

test('bad ids, duplicates, unknown devices and rotating a revoked device are refused with stable codes', async (t) => {
  const paths = await folders(t);
  const state = await openHostState(paths, silentLogger);
  t.teardown(() => state.close());
  for (const id of ['', 'ab', 'Kiosk-1', 'kiosk_1', '-kiosk', 'k'.repeat(64), '../etc']) {
    t.is(errorCode(await state.registry.add(id).catch((e: unknown) => e)), 'BAD_DEVICE_ID', JSON.stringify(id));
  }
  const adds = await Promise.all([1, 2, 3].map(() => state.registry.add('kiosk-twice').catch((e: unknown) => e)));
  t.is(adds.filter((a) => Buffer.isBuffer(a)).length, 1, 'concurrent adds of one id: exactly one wins');
  t.true(adds.filter((a) => !Buffer.isBuffer(a)).every((a) => errorCode(a) === 'DEVICE_EXISTS'));
  t.is(errorCode(await state.registry.revoke('kiosk-nobody').catch((e: unknown) => e)), 'DEVICE_UNKNOWN');
  await state.registry.revoke('kiosk-twice');
  t.is(errorCode(await state.registry.rotate('kiosk-twice').catch((e: unknown) => e)), 'DEVICE_REVOKED');
  t.like(await state.registry.revoke('kiosk-twice'), { status: 'revoked' }, 'revoking twice is harmless');
});
