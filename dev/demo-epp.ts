// The demo's PIN pad keys (docs/keys.md): a demo EPP vendor whose CA the demo host trusts, and the
// identity of the demo kiosk's PIN pad, certified by it. The demo types the PIN on the screen, so the
// kiosk runs the demo setting (`demoPinEntry`): a software secure module with this identity, which
// receives the kiosk's PIN key from the host exactly as an EPP would. The CA's private key certifies the
// one identity and is forgotten; a real vendor keeps its CA in its factory.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EPP_VENDOR_CAS_FILE, writeSecretFile } from '../bank-host/keys.js';
import { formatVendorCa, issueEppCertificate, rawPublicKey } from '../protocol/pin-key-delivery.js';
import { formatEppIdentity } from '../kiosk/devices/pin-pad/epp/identity.js';

export const DEMO_EPP_VENDOR = 'demo-epp-vendor';
export const DEMO_EPP_IDENTITY_FILE = 'epp-identity';

/** Makes the demo vendor and the PIN pad's identity unless both exist; returns the identity file. */
export async function ensureDemoEpp(keysDir: string, kioskDir: string): Promise<string> {
  const identityFile = path.join(kioskDir, DEMO_EPP_IDENTITY_FILE);
  const casFile = path.join(keysDir, EPP_VENDOR_CAS_FILE);
  if (existsSync(identityFile) && existsSync(casFile)) return identityFile;
  await mkdir(kioskDir, { recursive: true, mode: 0o700 });
  const ca = generateKeyPairSync('ed25519');
  const epp = generateKeyPairSync('x25519');
  const certificate = issueEppCertificate(ca.privateKey, DEMO_EPP_VENDOR, 'DEMO0001', rawPublicKey(epp.publicKey));
  await writeFile(casFile, formatVendorCa(DEMO_EPP_VENDOR, ca.publicKey), { mode: 0o644 });
  await writeSecretFile(identityFile, formatEppIdentity({ serial: 'DEMO0001', privateKey: epp.privateKey, certificate }), { overwrite: true });
  return identityFile;
}
