// host.json's `store` setting and the store connection string: what is accepted, what is refused and why,
// and the password credential's rules (never in host.json, never in the connection string).
import test from 'ava';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultHostConfig, hostConfigSchema } from '../../bank-host/config.js';
import { parseStoreConnectionString, postgresStoreOptions } from '../../bank-host/host-store.js';
import { HostError } from '../../bank-host/errors.js';

const good = { backend: 'postgresql', addresses: [{ host: '10.0.0.1', port: 5432 }, { host: 'db2.bank.example' }], database: 'atm', user: 'atm_app' };

test('the store is LevelDB unless host.json names PostgreSQL', (t) => {
  t.deepEqual(defaultHostConfig().store, { backend: 'leveldb' });
  const parsed = hostConfigSchema.parse({ store: good });
  t.like(parsed.store, { backend: 'postgresql', database: 'atm', user: 'atm_app', passwordCredential: 'postgres-password', idleInTransactionTimeoutMs: 1_000 });
  t.deepEqual((parsed.store as { addresses: unknown }).addresses, [{ host: '10.0.0.1', port: 5432 }, { host: 'db2.bank.example', port: 5432 }]);
});

test('a store setting out of its bounds or half given is refused', (t) => {
  const refused = (store: unknown) => t.false(hostConfigSchema.safeParse({ store }).success, JSON.stringify(store));
  refused({ backend: 'mysql' });
  refused({ backend: 'leveldb', addresses: [] });
  refused({ backend: 'postgresql' });
  refused({ ...good, addresses: [] });
  refused({ ...good, addresses: Array.from({ length: 17 }, (_, i) => ({ host: `n${i}` })) });
  refused({ ...good, addresses: [{ host: 'a b' }] });
  refused({ ...good, addresses: [{ host: 'db', port: 0 }] });
  refused({ ...good, addresses: [{ host: 'db', port: 65_536 }] });
  refused({ ...good, database: 'Atm; DROP' });
  refused({ ...good, user: undefined });
  refused({ ...good, password: 'secret' });
  refused({ ...good, passwordCredential: '../etc/shadow' });
  refused({ ...good, hostId: 'a/b' });
  refused({ ...good, poolSize: 0 });
  refused({ ...good, poolSize: 129 });
  // host.json is strict (an unknown name is refused too): the edges of the group commit's bounds are taken.
  for (const edge of [{ groupCommitUnits: 1 }, { groupCommitUnits: 32 }, { groupCommitLanes: 1 }, { groupCommitLanes: 128 }]) {
    t.true(hostConfigSchema.safeParse({ store: { ...good, ...edge } }).success, JSON.stringify(edge));
  }
  refused({ ...good, groupCommitUnits: 0 });
  refused({ ...good, groupCommitUnits: 33 });
  refused({ ...good, groupCommitUnits: 2.5 });
  refused({ ...good, groupCommitLanes: 0 });
  refused({ ...good, groupCommitLanes: 129 });
  refused({ ...good, idleInTransactionTimeoutMs: 999 });
  refused({ ...good, lockTimeoutMs: 60_001 });
  refused({ ...good, connectionString: 'postgresql://atm_app@db1/atm' });
});

test('a connection string names several nodes, the user and the database, and never a password', (t) => {
  t.deepEqual(parseStoreConnectionString('postgresql://atm_app@db1:5433,10.0.0.2,[::1]:6432/atm'), {
    addresses: [{ host: 'db1', port: 5433 }, { host: '10.0.0.2', port: 5432 }, { host: '::1', port: 6432 }],
    database: 'atm',
    user: 'atm_app',
  });
  const refusal = (text: string) => t.throws(() => parseStoreConnectionString(text), { instanceOf: HostError });
  const withPassword = refusal('postgresql://atm_app:hunter2@db1/atm');
  t.regex(withPassword!.message, /must not hold a password/);
  t.notRegex(withPassword!.message, /hunter2/);
  refusal('mysql://atm_app@db1/atm');
  refusal('postgresql://db1/atm');
  refusal('postgresql://atm_app@db1/atm?sslmode=disable');
  refusal('postgresql://atm_app@db1:99999/atm');
  refusal('postgresql://atm_app@db 1/atm');
  refusal('postgresql://Bad-User@db1/atm');
});

test('the password comes from the credential file: owner-only unless systemd hands it over, one line, never quoted', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'store-credential-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const settings = hostConfigSchema.parse({ store: { ...good, hostId: 'host-a' } }).store;
  if (settings.backend !== 'postgresql') throw new Error('expected the postgresql setting');
  const missing = await t.throwsAsync(postgresStoreOptions({ dataDir: dir, keysDir: dir }, settings));
  t.regex(missing!.message, /postgres-password is missing/);
  const file = path.join(dir, 'postgres-password');
  await writeFile(file, 's3cret-pass\n', { mode: 0o644 });
  const open = await t.throwsAsync(postgresStoreOptions({ dataDir: dir, keysDir: dir }, settings));
  t.regex(open!.message, /readable by others/);
  t.notRegex(open!.message, /s3cret/);
  const options = await postgresStoreOptions({ dataDir: dir, keysDir: dir, keysFromCredentials: true }, settings);
  t.like(options, { password: 's3cret-pass', user: 'atm_app', database: 'atm', hostId: 'host-a', idleInTransactionTimeoutMs: 1_000 });
  t.false('groupCommitUnits' in options || 'groupCommitLanes' in options, "unset, the store's own defaults apply");
  const grouped = hostConfigSchema.parse({ store: { ...good, groupCommitUnits: 4, groupCommitLanes: 2 } }).store;
  if (grouped.backend !== 'postgresql') throw new Error('expected the postgresql setting');
  t.like(await postgresStoreOptions({ dataDir: dir, keysDir: dir, keysFromCredentials: true }, grouped), { groupCommitUnits: 4, groupCommitLanes: 2 });
  await writeFile(file, 'two\nlines\n');
  await chmod(file, 0o600);
  const twoLines = await t.throwsAsync(postgresStoreOptions({ dataDir: dir, keysDir: dir }, settings));
  t.regex(twoLines!.message, /one non-empty line/);
  t.notRegex(twoLines!.message, /lines/);
});
