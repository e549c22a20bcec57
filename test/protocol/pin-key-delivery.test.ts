import test from 'ava';
import { diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { keyCheckValue, parseKeyBlockHeader, wrapKeyBlock } from '../../protocol/key-block.js';
import {
  deliverPinKey,
  formatVendorCa,
  issueEppCertificate,
  parseVendorCas,
  PinKeyDeliveryError,
  rawPublicKey,
  receivePinKey,
  verifyEppCertificate,
} from '../../protocol/pin-key-delivery.js';

const ca = generateKeyPairSync('ed25519');
const trusted = parseVendorCas(formatVendorCa('acme-epp', ca.publicKey));
const epp = generateKeyPairSync('x25519');
const certText = issueEppCertificate(ca.privateKey, 'acme-epp', 'SN0001', rawPublicKey(epp.publicKey));

const codeOf = async (t: import('ava').ExecutionContext, p: Promise<unknown> | (() => unknown)) => {
  const error = typeof p === 'function' ? t.throws(p as () => unknown) : await t.throwsAsync(p);
  t.true(error instanceof PinKeyDeliveryError, String(error));
  return (error as PinKeyDeliveryError).code;
};

test('a PEK delivered for an EPP and device opens in that EPP with the same key and check value', async (t) => {
  const cert = verifyEppCertificate(certText, trusted);
  t.is(cert.serial, 'SN0001');
  const pek = randomBytes(32);
  const delivery = await deliverPinKey(cert, 'kiosk-1', pek, 3);
  t.is(delivery.kcv, await keyCheckValue(pek));
  const header = parseKeyBlockHeader(delivery.keyBlock);
  t.like(header, { keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', exportability: 'N' });
  t.false(delivery.keyBlock.includes(pek.toString('hex').toUpperCase()));
  const received = await receivePinKey(epp.privateKey, 'SN0001', 'kiosk-1', Buffer.from(delivery.ephemeralPublicKey, 'hex'), delivery.keyBlock);
  t.true(received.pek.equals(pek));
  t.is(received.pinKeyVersion, 3);
  t.is(received.kcv, delivery.kcv);
  t.is(header.optionalBlocks.find((b) => b.id === 'KP')?.data, `01${received.kbpkKcv}`);
});

test('a block for another device, another EPP, or a changed block is refused', async (t) => {
  const cert = verifyEppCertificate(certText, trusted);
  const delivery = await deliverPinKey(cert, 'kiosk-1', randomBytes(32), 1);
  const ephemeral = Buffer.from(delivery.ephemeralPublicKey, 'hex');
  t.is(await codeOf(t, receivePinKey(epp.privateKey, 'SN0001', 'kiosk-2', ephemeral, delivery.keyBlock)), 'WRONG_DEVICE');
  t.is(await codeOf(t, receivePinKey(generateKeyPairSync('x25519').privateKey, 'SN0001', 'kiosk-1', ephemeral, delivery.keyBlock)), 'BAD_KEY_BLOCK');
  t.is(await codeOf(t, receivePinKey(epp.privateKey, 'SN0002', 'kiosk-1', ephemeral, delivery.keyBlock)), 'BAD_KEY_BLOCK');
  const last = delivery.keyBlock.at(-1) === '0' ? '1' : '0';
  t.is(await codeOf(t, receivePinKey(epp.privateKey, 'SN0001', 'kiosk-1', ephemeral, delivery.keyBlock.slice(0, -1) + last)), 'BAD_KEY_BLOCK');
  // The label names the device: moving the block to another device's label breaks its MAC.
  t.is(await codeOf(t, receivePinKey(epp.privateKey, 'SN0001', 'kiosk-9', ephemeral, delivery.keyBlock.replace('atm:kiosk-1:', 'atm:kiosk-9:'))), 'BAD_KEY_BLOCK');
});

test('a block whose stated check value is not its key, or that is not a PIN key, is refused', async (t) => {
  // Built as the host would, with the KBPK derived the documented way, but with a wrong KC or usage.
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralPublic = rawPublicKey(ephemeral.publicKey);
  const eppPublic = rawPublicKey(epp.publicKey);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: epp.publicKey });
  const kbpk = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralPublic, eppPublic]), 'atm-kiosk/kbpk/v1|kiosk-1|SN0001', 32));
  const pek = randomBytes(32);
  const base = { keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', keyVersion: '00', exportability: 'N' };
  const label = { id: 'LB', data: 'atm:kiosk-1:pek:1' };
  const wrongKcv = await wrapKeyBlock(kbpk, { ...base, optionalBlocks: [{ id: 'KC', data: '01' + (await keyCheckValue(randomBytes(32))) }, label] }, pek);
  t.is(await codeOf(t, receivePinKey(epp.privateKey, 'SN0001', 'kiosk-1', ephemeralPublic, wrongKcv)), 'KCV_MISMATCH');
  const macKey = await wrapKeyBlock(kbpk, { ...base, keyUsage: 'M3', optionalBlocks: [{ id: 'KC', data: '01' + (await keyCheckValue(pek)) }, label] }, pek);
  t.is(await codeOf(t, receivePinKey(epp.privateKey, 'SN0001', 'kiosk-1', ephemeralPublic, macKey)), 'BAD_KEY_BLOCK');
  const good = await wrapKeyBlock(kbpk, { ...base, optionalBlocks: [{ id: 'KC', data: '01' + (await keyCheckValue(pek)) }, label] }, pek);
  t.true((await receivePinKey(epp.privateKey, 'SN0001', 'kiosk-1', ephemeralPublic, good)).pek.equals(pek));
});

test('certificates: another CA, another vendor, a changed key or a malformed line are refused', async (t) => {
  const otherCa = generateKeyPairSync('ed25519');
  const forged = issueEppCertificate(otherCa.privateKey, 'acme-epp', 'SN0001', rawPublicKey(epp.publicKey));
  t.is(await codeOf(t, () => verifyEppCertificate(forged, trusted)), 'UNTRUSTED_CERTIFICATE');
  const otherVendor = issueEppCertificate(ca.privateKey, 'other', 'SN0001', rawPublicKey(epp.publicKey));
  t.is(await codeOf(t, () => verifyEppCertificate(otherVendor, trusted)), 'UNTRUSTED_CERTIFICATE');
  const swapped = certText.replace(rawPublicKey(epp.publicKey).toString('hex'), rawPublicKey(generateKeyPairSync('x25519').publicKey).toString('hex'));
  t.is(await codeOf(t, () => verifyEppCertificate(swapped, trusted)), 'UNTRUSTED_CERTIFICATE');
  for (const bad of ['', 'atm-epp-cert v1 acme', certText + ' ', certText.toUpperCase(), 'x'.repeat(1000)]) {
    t.is(await codeOf(t, () => verifyEppCertificate(bad, trusted)), 'BAD_CERTIFICATE', bad.slice(0, 30));
  }
  t.is(await codeOf(t, () => parseVendorCas('atm-epp-ca v1 acme nothex')), 'BAD_CERTIFICATE');
  t.deepEqual(parseVendorCas('# comment\n\n' + formatVendorCa('a', ca.publicKey) + formatVendorCa('b', otherCa.publicKey)).map((c) => c.vendor), ['a', 'b']);
});
