// A test EPP vendor: its CA (trusted by every test host, written beside the host's keys) and the PIN pad
// identities it certifies, as a real vendor's factory would (protocol/pin-key-delivery.ts).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EPP_VENDOR_CAS_FILE } from '../../bank-host/keys.js';
import { deliverPinKey, formatVendorCa, issueEppCertificate, parseVendorCas, rawPublicKey, verifyEppCertificate, type VendorCa } from '../../protocol/pin-key-delivery.js';
import { EppSecureModule } from '../../kiosk/devices/pin-pad/epp/secure-module.js';
import { formatEppIdentity, type EppIdentity } from '../../kiosk/devices/pin-pad/epp/identity.js';

export const TEST_EPP_VENDOR = 'test-epp-vendor';
const ca = generateKeyPairSync('ed25519');
let serials = 0;

/** The CAs a test host trusts. */
export function testVendorCas(): VendorCa[] {
  return parseVendorCas(formatVendorCa(TEST_EPP_VENDOR, ca.publicKey));
}

/** Makes the host in `keysDir` trust the test vendor. */
export async function trustTestEppVendor(keysDir: string): Promise<void> {
  await writeFile(path.join(keysDir, EPP_VENDOR_CAS_FILE), formatVendorCa(TEST_EPP_VENDOR, ca.publicKey), { mode: 0o644 });
}

/** A new PIN pad's factory identity: its X25519 key pair and the test vendor's certificate of it. */
export function testEppIdentity(serial = `TEST${String(++serials).padStart(6, '0')}-${process.pid}`): EppIdentity {
  const pair = generateKeyPairSync('x25519');
  return { serial, privateKey: pair.privateKey, certificate: issueEppCertificate(ca.privateKey, TEST_EPP_VENDOR, serial, rawPublicKey(pair.publicKey)) };
}

/** The identity as the file a simulator or the demo setting reads. */
export function testEppIdentityText(serial?: string): string {
  return formatEppIdentity(testEppIdentity(serial));
}

/** A software secure module (the demo setting's) holding `pek`, delivered the way the host delivers it:
 *  the identity's certificate checked, the key exchanged, the key block loaded. */
export async function loadedSecureModule(pek: Buffer, deviceId = 'kiosk-demo', secure = new EppSecureModule(testEppIdentity())): Promise<EppSecureModule> {
  const delivery = await deliverPinKey(verifyEppCertificate(secure.certificate, testVendorCas()), deviceId, pek, 1);
  await secure.exchangeKbpk(deviceId, Buffer.from(delivery.ephemeralPublicKey, 'hex'));
  await secure.loadKeyBlock(delivery.keyBlock);
  return secure;
}

/** Writes an identity to a file of its own (owner-only), removed when the process exits. */
export async function writeTestEppIdentityFile(serial?: string): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'epp-identity-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'epp-identity');
  await writeFile(file, testEppIdentityText(serial), { mode: 0o600 });
  return file;
}
