// `provision enroll --host A --host B`: a kiosk given several bank hosts (sharing one database), written in
// order to kiosk.json, each probed by `provision check`, with two real hosts on loopback.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { writeSecretFile } from '../../bank-host/keys.js';
import { hostEndpoints, loadKShared, parseKioskConfig } from '../../kiosk/core/config.js';
import { formatKeyTransport } from '../../protocol/key-transport.js';
import { main } from '../../provisioning/cli/main.js';
import { startTestHost } from '../helpers/host.js';

async function provision(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (text) => (out += text + '\n'), err: (text) => (err += text + '\n') });
  return { code, out, err };
}

async function newRoot(t: import('ava').ExecutionContext): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'provision-hosts-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'etc'), { recursive: true });
  return root;
}

test('enroll writes every host in order; check probes each and names the one that is down', async (t) => {
  const a = await startTestHost();
  const b = await startTestHost();
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const root = await newRoot(t);
  const enrolled = await provision('enroll', '--device-id', 'kiosk-pair-1', '--host', `127.0.0.1:${b.port}`, '--host', `127.0.0.1:${a.port}`, '--root', root, '--admin-socket', a.adminSocket);
  t.is(enrolled.code, 0, enrolled.err);
  const config = parseKioskConfig(JSON.parse(await readFile(path.join(root, 'etc/atm-kiosk/kiosk.json'), 'utf8')));
  t.deepEqual(hostEndpoints(config), [{ host: '127.0.0.1', port: b.port }, { host: '127.0.0.1', port: a.port }], 'in the order given');
  t.is(config.host, undefined);

  // The second host learns the same key (in production they share the database, so it knows it already).
  await b.addDevice('kiosk-pair-1', await loadKShared(path.join(root, 'etc/atm-kiosk/k_shared.staged')));
  let check = await provision('check', '--root', root);
  t.is(check.code, 0, check.out);
  t.regex(check.out, new RegExp(`kiosk\\.json: valid, device kiosk-pair-1, hosts 127\\.0\\.0\\.1:${b.port}, 127\\.0\\.0\\.1:${a.port} \\(tried in this order\\)`));
  t.regex(check.out, new RegExp(`host: 127\\.0\\.0\\.1:${b.port} accepted device kiosk-pair-1`));
  t.regex(check.out, new RegExp(`host: 127\\.0\\.0\\.1:${a.port} accepted device kiosk-pair-1`));

  await b.stop();
  check = await provision('check', '--root', root, '--timeout-ms', '2000');
  t.is(check.code, 1);
  t.regex(check.out, new RegExp(`PROBLEM host: host unreachable: 127\\.0\\.0\\.1:${b.port}`));
  t.regex(check.out, new RegExp(`host: 127\\.0\\.0\\.1:${a.port} accepted device kiosk-pair-1`), 'the other host is still checked');
});

test('several --host: the same one twice, more than 8, or a name with --restrict-network are refused before anything is written', async (t) => {
  const root = await newRoot(t);
  const keyFile = path.join(root, 'key');
  await writeSecretFile(keyFile, await formatKeyTransport('kiosk-pair-2', 1, Buffer.alloc(32, 9)));
  const base = ['enroll', '--device-id', 'kiosk-pair-2', '--root', root, '--key-file', keyFile];
  let run = await provision(...base, '--host', '10.0.0.5:7443', '--host', '10.0.0.5:7443');
  t.is(run.code, 2);
  t.regex(run.err, /--host 10\.0\.0\.5:7443 is given twice/);
  run = await provision(...base, ...Array.from({ length: 9 }, (_, i) => ['--host', `10.0.0.${i + 1}:7443`]).flat());
  t.is(run.code, 2);
  t.regex(run.err, /--host is given 9 times; a kiosk knows at most 8 bank hosts/);
  run = await provision(...base, '--host', '10.0.0.5:7443', '--host', 'bank-b.example:7443', '--restrict-network');
  t.is(run.code, 2);
  t.regex(run.err, /--restrict-network needs every --host as an IP address: with a name \(bank-b\.example\)/);
  await t.throwsAsync(readFile(path.join(root, 'etc/atm-kiosk/kiosk.json')), { code: 'ENOENT' });

  run = await provision(...base, '--host', '10.0.0.5:7443', '--host', '[2001:db8::5]:7443', '--restrict-network');
  t.is(run.code, 0, run.err);
  const dropIn = await readFile(path.join(root, 'etc/systemd/system/atm-kiosk.service.d/host-address.conf'), 'utf8');
  t.regex(dropIn, /^IPAddressAllow=10\.0\.0\.5 2001:db8::5 localhost$/m);
});
