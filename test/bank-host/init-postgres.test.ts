// `bank-host init --store postgresql://…`: a host of a bank whose ledger is on PostgreSQL (a real Patroni
// cluster): the first host's keys made, host.json naming the store, the tables created; a second host given
// a copy of the keys; a host with other keys refused; and every bad case refused before anything is
// created, or undone when the connection fails.
import test from 'ava';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../bank-host/cli/main.js';
import type { Io } from '../../bank-host/cli/io.js';
import { addCustomer } from '../../bank-host/customers/admin.js';
import { usernameKey } from '../../bank-host/customers/records.js';
import { openHostState } from '../../bank-host/host.js';
import { createLogger } from '../../protocol/log.js';
import { CLUSTER_START_TIMEOUT_MS } from '../helpers/postgres-cluster.js';
import { clusterStartMs, primaryClient, sharedCluster, stopSharedCluster } from '../helpers/store-backend.js';
import { SCENARIO_SCRYPT_COST } from '../reliability/revocation-scenarios.js';

const KEY_FILES = ['master.key', 'pin-verify.key', 'audit-enc.key', 'audit-mac.key', 'audit-sign.key'];

test.after.always(() => stopSharedCluster());

async function init(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, readSecret: async () => '' };
  const code = await main(['init', ...argv], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A key folder holding only the role's password, as an operator prepares it for `init --store`. */
async function keyFolderWithPassword(root: string, name: string, password: string): Promise<string> {
  const keys = path.join(root, name);
  await mkdir(keys, { mode: 0o700 });
  await writeFile(path.join(keys, 'postgres-password'), password + '\n', { mode: 0o600 });
  return keys;
}

const exists = (file: string) => readFile(file).then(() => true, (error: NodeJS.ErrnoException) => error.code === 'EISDIR');

test('bad arguments and bad folders are refused before anything is created', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'init-pg-bad-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const keys = await keyFolderWithPassword(root, 'keys', 'hunter2-secret');
  const data = path.join(root, 'data');
  const url = 'postgresql://atm@127.0.0.1:1/atm';
  const nothingCreated = async () => {
    t.false(await exists(data), 'no data folder');
    t.deepEqual((await readdir(keys)).sort(), ['postgres-password'], 'no key made');
  };

  t.regex((await init('--help')).out, /--store URL/);
  const hostIdAlone = await init('--data', data, '--keys', keys, '--host-id', 'h1');
  t.is(hostIdAlone.code, 2);
  t.regex(hostIdAlone.err, /--host-id goes with --store/);
  const withPassword = await init('--data', data, '--keys', keys, '--store', 'postgresql://atm:hunter2@db1/atm');
  t.is(withPassword.code, 1);
  t.regex(withPassword.err, /must not hold a password/);
  t.notRegex(withPassword.err, /hunter2/);
  t.regex((await init('--data', data, '--keys', keys, '--store', 'mysql://atm@db1/atm')).err, /must read postgresql:\/\/user@host/);
  const badHostId = await init('--data', data, '--keys', keys, '--store', url, '--host-id', 'no spaces here');
  t.is(badHostId.code, 2);
  t.regex(badHostId.err, /--host-id/);
  t.is((await init('--data', data, '--keys', keys, '--store', url, '--password-credential', '../shadow')).code, 2);
  const noPassword = await init('--data', data, '--keys', keys, '--store', url, '--password-credential', 'other-password');
  t.is(noPassword.code, 1);
  t.regex(noPassword.err, /credential file .*other-password is missing/);
  await nothingCreated();

  await chmod(path.join(keys, 'postgres-password'), 0o644);
  const readable = await init('--data', data, '--keys', keys, '--store', url);
  t.is(readable.code, 1);
  t.regex(readable.err, /readable by others/);
  t.notRegex(readable.err, /hunter2/);
  await chmod(path.join(keys, 'postgres-password'), 0o600);
  await nothingCreated();

  await writeFile(path.join(keys, 'master.key'), 'ab'.repeat(32) + '\n', { mode: 0o600 });
  const partial = await init('--data', data, '--keys', keys, '--store', url);
  t.is(partial.code, 2);
  t.regex(partial.err, /holds master\.key but not every host key/);
  t.false(await exists(data));
  await rm(path.join(keys, 'master.key'));

  await mkdir(path.join(data, 'db'), { recursive: true });
  const leveldb = await init('--data', data, '--keys', keys, '--store', url);
  t.is(leveldb.code, 2);
  t.regex(leveldb.err, /holds a LevelDB host: `bank-host migrate`/);
  await writeFile(path.join(data, 'host.json'), '{}\n', { mode: 0o600 });
  const configured = await init('--data', data, '--keys', keys, '--store', url);
  t.is(configured.code, 2);
  t.regex(configured.err, /host\.json already exists/);
  t.is(await readFile(path.join(data, 'host.json'), 'utf8'), '{}\n', 'host.json untouched');
  await rm(data, { recursive: true });

  // Nothing listens on port 1: the connection fails after the keys and host.json were made, and both go.
  const unreachable = await init('--data', data, '--keys', keys, '--store', url);
  t.is(unreachable.code, 1);
  t.regex(unreachable.err, /no PostgreSQL primary among 1 nodes: 127\.0\.0\.1:1 unreachable/);
  t.notRegex(unreachable.err, /hunter2/);
  await nothingCreated();
});

test('the first host makes the keys and the tables, a second serves with a copy, other keys are refused', async (t) => {
  t.timeout(CLUSTER_START_TIMEOUT_MS + 120_000);
  const cluster = await sharedCluster();
  t.log(`cluster started in ${clusterStartMs} ms`);
  const database = await cluster.createDatabase('init_hosts');
  const url = `postgresql://${database.user}@${cluster.addresses.map((a) => `${a.host}:${a.port}`).join(',')}/${database.database}`;
  const root = await mkdtemp(path.join(os.tmpdir(), 'init-pg-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));

  const keysA = await keyFolderWithPassword(root, 'keys-a', database.password);
  const dataA = path.join(root, 'data-a');
  const first = await init('--data', dataA, '--keys', keysA, '--store', url, '--host-id', 'host-a');
  t.is(first.code, 0, first.err);
  t.regex(first.out, /created host keys in .*keys-a; wrote .*host\.json: the ledger on PostgreSQL at .* as .*, host id host-a; the store's tables are ready/);
  t.deepEqual((await readdir(keysA)).sort(), [...KEY_FILES, 'postgres-password'].sort());
  t.deepEqual((await readdir(dataA)).sort(), ['host.json']);
  const config = JSON.parse(await readFile(path.join(dataA, 'host.json'), 'utf8')) as { store: Record<string, unknown> };
  t.like(config.store, { backend: 'postgresql', connectionString: url, hostId: 'host-a', passwordCredential: 'postgres-password' });
  t.notRegex(JSON.stringify(config), new RegExp(database.password));

  const client = await primaryClient(cluster, database, database.database);
  try {
    const tables = await client.query<{ relname: string }>(`SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 1`);
    t.deepEqual(tables.rows.map((r) => r.relname), ['kv', 'kv_schema']);
  } finally {
    await client.end();
  }

  // The host serves from what init made, and its audit log now holds records sealed with these keys.
  const log = createLogger({ level: 'error', write: () => undefined });
  const stateA = await openHostState({ dataDir: dataA, keysDir: keysA }, log, { mustExist: true });
  try {
    await addCustomer(stateA.services, 'alice', 'correct horse battery', { scryptCost: SCENARIO_SCRYPT_COST });
  } finally {
    await stateA.close();
  }

  // A second host with a copy of the first one's keys.
  const keysB = path.join(root, 'keys-b');
  await cp(keysA, keysB, { recursive: true });
  const dataB = path.join(root, 'data-b');
  const second = await init('--data', dataB, '--keys', keysB, '--store', url, '--host-id', 'host-b');
  t.is(second.code, 0, second.err);
  t.regex(second.out, /using the bank's keys in .*keys-b/);
  t.is(await readFile(path.join(keysB, 'master.key'), 'utf8'), await readFile(path.join(keysA, 'master.key'), 'utf8'), 'the copy is kept');
  const stateB = await openHostState({ dataDir: dataB, keysDir: keysB }, log, { mustExist: true });
  try {
    t.truthy(await stateB.services.db.get(usernameKey('alice')), 'the second host sees the first one\'s customer');
  } finally {
    await stateB.close();
  }

  // A host given fresh keys would seal records no other host could verify: refused, and undone.
  const keysC = await keyFolderWithPassword(root, 'keys-c', database.password);
  const dataC = path.join(root, 'data-c');
  const other = await init('--data', dataC, '--keys', keysC, '--store', url, '--host-id', 'host-c');
  t.is(other.code, 1);
  t.regex(other.err, /audit log was written with other keys: copy the key folder of the bank's first host/);
  t.false(await exists(dataC));
  t.deepEqual(await readdir(keysC), ['postgres-password']);
});
