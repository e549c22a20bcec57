// Does, in one short run, the kinds of work the bank host does in production, so that a system call
// trace of it (test/systemd/units.test.ts, under strace) shows which calls bank-host.service's
// SystemCallFilter= must allow: LevelDB with synced batches, a TLS 1.3-PSK listener and client, a Unix
// admin socket, owner-only files with fsync, scrypt, and a SIGTERM handler.
// Usage: node syscall-probe.mjs <scratch-folder>
import { createRequire } from 'node:module';
import { randomBytes, scrypt } from 'node:crypto';
import { open } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

const scratch = process.argv[2];
if (!scratch) throw new Error('usage: syscall-probe.mjs <scratch-folder>');
const require = createRequire(import.meta.url);
const { Level } = require('level');

const db = new Level(path.join(scratch, 'db'), { valueEncoding: 'json' });
await db.open();
await db.batch([{ type: 'put', key: 'probe', value: { amountCents: 100 } }], { sync: true });
for await (const entry of db.iterator()) void entry;

const psk = randomBytes(32);
const channel = tls.createServer(
  { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', pskCallback: () => psk },
  (socket) => socket.end('ok'),
);
await new Promise((resolve) => channel.listen(0, '127.0.0.1', resolve));
const port = channel.address().port;
await new Promise((resolve, reject) => {
  const client = tls.connect({
    host: '127.0.0.1', port, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3',
    checkServerIdentity: () => undefined, pskCallback: () => ({ psk, identity: 'kiosk-probe' }),
  });
  client.on('data', () => {});
  client.on('end', resolve);
  client.on('error', reject);
});

const adminSocketPath = path.join(scratch, 'admin.sock');
const admin = net.createServer((socket) => socket.end('ok'));
await new Promise((resolve) => admin.listen(adminSocketPath, resolve));
await new Promise((resolve, reject) => {
  const client = net.connect(adminSocketPath);
  client.on('data', () => {});
  client.on('end', resolve);
  client.on('error', reject);
});

const file = await open(path.join(scratch, 'audit.log'), 'wx', 0o600);
await file.writeFile('probe\n');
await file.datasync();
await file.sync();
await file.close();

await new Promise((resolve, reject) => scrypt('1234', 'salt', 32, { N: 16384 }, (error) => (error ? reject(error) : resolve())));
process.on('SIGTERM', () => {});

await new Promise((resolve) => channel.close(resolve));
await new Promise((resolve) => admin.close(resolve));
await db.close();
console.log('probe ok');
