// One key per job: each kiosk's PIN encryption key (PEK) is its own, delivered only to its enrolled PIN pad
// (pinkey.fetch), rotated on its own (device rotate-pin-key) without touching K_SHARED, and vice versa.
// Real host, real TLS channel, real admin socket.
import test from 'ava';
import { keyCheckValue } from '../../protocol/key-block.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import { receivePinKey } from '../../protocol/pin-key-delivery.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import { issueCard, addCustomer } from '../../bank-host/customers/admin.js';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { createHostOperations } from '../../bank-host/operations/table.js';
import { requestOutcome, startTestHost, type TestHost } from '../helpers/host.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';
import { testEppIdentity } from '../helpers/epp-vendor.js';

const FAST = { scryptCost: { log2N: 10, r: 8, p: 1 } };

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env: {}, readSecret: async () => '' };
  return { code: await main(argv, io), out, err };
}

async function setup(t: import('ava').ExecutionContext) {
  const h = await startTestHost({ operations: createHostOperations(FAST) });
  t.teardown(() => h.close());
  const client = await h.connectedClient('kiosk-pek');
  return { h, client };
}

async function records(h: TestHost, action: string) {
  const { db, keys } = h.host.state.services;
  const page = await readAuditPage(db, keys.auditEnc, { order: 'asc', limit: 1_000, scanLimit: 10_000 });
  return page.entries.filter((entry) => entry.action === action);
}

test('pinkey.fetch delivers the device PEK wrapped for the pad whose certificate it sent; only that pad opens it', async (t) => {
  const { h, client } = await setup(t);
  const epp = testEppIdentity();
  const answer = await client.request('pinkey.fetch', { eppCertificate: epp.certificate });
  const pek = h.pinKey('kiosk-pek');
  t.is(answer.kcv, await keyCheckValue(pek));
  t.is(answer.pinKeyVersion, 1);
  const received = await receivePinKey(epp.privateKey, epp.serial, 'kiosk-pek', Buffer.from(answer.ephemeralPublicKey, 'hex'), answer.keyBlock);
  t.true(received.pek.equals(pek));
  t.false(answer.keyBlock.toLowerCase().includes(pek.toString('hex')));
  // The status report's answer names the same check value (never the key).
  const status = await client.request('kiosk.status', testKioskStatus());
  t.is(status.pinKeyKcv, answer.kcv);
  t.is(h.host.state.registry.get('kiosk-pek')?.eppSerial, epp.serial);
  t.is((await records(h, 'epp.enroll')).length, 1);
});

test('a certificate of another CA is EPP_UNTRUSTED; another pad than the enrolled one is EPP_MISMATCH until the operator replaces it', async (t) => {
  const { h, client } = await setup(t);
  const first = testEppIdentity();
  await client.request('pinkey.fetch', { eppCertificate: first.certificate });
  const forged = first.certificate.replace(/[0-9a-f]{128}$/, '0'.repeat(128));
  t.is(await requestOutcome(client.request('pinkey.fetch', { eppCertificate: forged })), 'EPP_UNTRUSTED');
  t.is(await requestOutcome(client.request('pinkey.fetch', { eppCertificate: 'x'.repeat(401) })), 'BAD_BODY');
  const second = testEppIdentity();
  t.is(await requestOutcome(client.request('pinkey.fetch', { eppCertificate: second.certificate })), 'EPP_MISMATCH');
  t.is((await records(h, 'epp.enroll')).filter((r) => r.outcome === 'refused').length, 1);
  const swapped = await cli(['device', 'rotate-pin-key', 'kiosk-pek', '--replace-epp', '--admin-socket', h.adminSocket]);
  t.is(swapped.code, 0, swapped.err);
  t.regex(swapped.out, /PIN key v2 KCV [0-9A-F]{10}\tno EPP enrolled/);
  const answer = await client.request('pinkey.fetch', { eppCertificate: second.certificate });
  t.is(answer.pinKeyVersion, 2);
  t.is(h.host.state.registry.get('kiosk-pek')?.eppSerial, second.serial);
});

test('rotate-pin-key: a new PEK and KCV, K_SHARED and its connections untouched; a block under the old PEK no longer signs in', async (t) => {
  const { h, client } = await setup(t);
  const services = h.host.state.services;
  await addCustomer(services, 'pekuser', 'a fine password 123', FAST);
  const card = await issueCard(services, 'pekuser');
  const oldPek = Buffer.from(h.pinKey('kiosk-pek'));
  const before = h.host.state.registry.get('kiosk-pek')!;
  const rotated = await cli(['device', 'rotate-pin-key', 'kiosk-pek', '--admin-socket', h.adminSocket]);
  t.is(rotated.code, 0, rotated.err);
  const after = h.host.state.registry.get('kiosk-pek')!;
  t.is(after.keyVersion, before.keyVersion, 'K_SHARED is not rotated');
  t.is(after.pinKeyVersion, 2);
  t.not(after.pinKeyKcv, before.pinKeyKcv);
  t.true(rotated.out.includes(`PIN key v2 KCV ${after.pinKeyKcv}`));
  t.is(after.pinKeyKcv, await keyCheckValue(h.pinKey('kiosk-pek')));
  // The same connection goes on (K_SHARED untouched) and hears the new KCV.
  t.is((await client.request('kiosk.status', testKioskStatus())).pinKeyKcv, after.pinKeyKcv);
  t.is(await requestOutcome(client.request('signin.card', { pan: card.pan, pinBlock: encodePinBlockFormat4(card.pin, card.pan, oldPek).toString('hex') })), 'BAD_PIN_BLOCK');
  t.is(await requestOutcome(client.request('signin.card', { pan: card.pan, pinBlock: encodePinBlockFormat4(card.pin, card.pan, h.pinKey('kiosk-pek')).toString('hex') })), 'ok');
  // A block resent in a new request (a new id) is refused, and counts no PIN try.
  await client.request('signout', {});
  const block = encodePinBlockFormat4(card.pin, card.pan, h.pinKey('kiosk-pek')).toString('hex');
  t.is(await requestOutcome(client.request('signin.card', { pan: card.pan, pinBlock: block })), 'ok');
  await client.request('signout', {});
  t.is(await requestOutcome(client.request('signin.card', { pan: card.pan, pinBlock: block })), 'BAD_PIN_BLOCK');
  t.is(await requestOutcome(client.request('signin.card', { pan: card.pan, pinBlock: encodePinBlockFormat4(card.pin, card.pan, h.pinKey('kiosk-pek')).toString('hex') })), 'ok');
  await client.request('signout', {});
  const audited = await records(h, 'device.rotate-pin-key');
  t.is(audited.length, 1);
  t.like(audited[0], { outcome: 'ok', deviceId: 'kiosk-pek' });
  t.false(JSON.stringify(audited).includes(oldPek.toString('hex')));
  // Rotating K_SHARED leaves the PEK as it is.
  await h.host.state.registry.rotate('kiosk-pek');
  t.is(h.host.state.registry.get('kiosk-pek')!.pinKeyKcv, after.pinKeyKcv);
  // Refusals are audited and change nothing.
  const unknown = await cli(['device', 'rotate-pin-key', 'kiosk-nope', '--admin-socket', h.adminSocket]);
  t.not(unknown.code, 0);
  t.regex(unknown.err, /DEVICE_UNKNOWN/);
  t.is((await records(h, 'device.rotate-pin-key')).filter((r) => r.outcome === 'failed').length, 1);
  const help = await cli(['device', 'rotate-pin-key', '--help']);
  t.is(help.code, 0);
  t.regex(help.out, /--replace-epp/);
});

test('device list and add show each kiosk its PIN key version and check value, and the K_SHARED check value on add', async (t) => {
  const { h } = await setup(t);
  const list = await cli(['device', 'list', '--admin-socket', h.adminSocket]);
  t.is(list.code, 0, list.err);
  t.regex(list.out, new RegExp(`kiosk-pek\tactive\tkey v1\tPIN key v1 KCV ${h.host.state.registry.get('kiosk-pek')!.pinKeyKcv}\tno EPP enrolled`));
  const dir = h.dataDir;
  const added = await cli(['device', 'add', 'kiosk-pek-2', '--key-out', `${dir}/kiosk-pek-2.key`, '--admin-socket', h.adminSocket]);
  t.is(added.code, 0, added.err);
  t.regex(added.out, /added kiosk-pek-2\tactive\tkey v1\tPIN key v1 KCV [0-9A-F]{10}\tno EPP enrolled\t.*\nK_SHARED KCV [0-9A-F]{10}/);
});

test('the vendor CA list is held to host.json rules: one writable by others, or malformed, stops the host; none trusts no pad', async (t) => {
  const { mkdtemp, writeFile, chmod, rm } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const { loadEppVendorCas, EPP_VENDOR_CAS_FILE } = await import('../../bank-host/config.js');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'epp-cas-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.deepEqual(await loadEppVendorCas(dir), []);
  const file = path.join(dir, EPP_VENDOR_CAS_FILE);
  await writeFile(file, 'atm-epp-ca v1 acme 00\n', { mode: 0o644 });
  await t.throwsAsync(loadEppVendorCas(dir), { message: /epp-vendor-cas: line 1 is not "atm-epp-ca v1 VENDOR PUBLIC-KEY-HEX"/ });
  await writeFile(file, `atm-epp-ca v1 acme ${'ab'.repeat(32)}\n`);
  t.is((await loadEppVendorCas(dir)).length, 1);
  await chmod(file, 0o666);
  await t.throwsAsync(loadEppVendorCas(dir), { message: /writable by its group and others \(mode 666\), who could change which PIN pads the host trusts; run `chmod go-w / });
});
