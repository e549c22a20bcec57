// A stolen K_SHARED alone yields no PIN. The attacker holds the kiosk's K_SHARED and sits on its path (a
// man in the middle that completes both TLS handshakes with it, k-shared-mitm.ts) while a customer signs in
// with card and PIN at a kiosk with an encrypting PIN pad (the EPP simulator behind a pty). With everything
// it read, and with its own requests to the host as the kiosk, it tries to get the PIN or the PIN key:
//   - the PIN block deciphered under keys made from K_SHARED (the HKDF derivation kiosks used before the
//     key hierarchy, K_SHARED itself, and other labels);
//   - the PIN key's key block (from the kiosk's pinkey.fetch) opened with the same keys as KBPK;
//   - pinkey.fetch sent by the attacker: with the pad's own certificate (read on the wire) the block opens
//     only with the pad's private key; with a certificate of its own CA it is refused; with a genuine pad
//     of the same vendor that is not the kiosk's it is refused.
// Every attempt that yields the PIN or the PIN key counts as accepted; the row must read 0.
import test from 'ava';
import { generateKeyPairSync, hkdfSync } from 'node:crypto';
import { ChannelClient } from '../../protocol/client.js';
import { unwrapKeyBlock } from '../../protocol/key-block.js';
import { decodePinBlockFormat4 } from '../../protocol/pin-block.js';
import { issueEppCertificate, rawPublicKey, receivePinKey } from '../../protocol/pin-key-delivery.js';
import { createHostOperations } from '../../bank-host/operations/table.js';
import { eventually, requestOutcome, startTestHost } from '../helpers/host.js';
import { testEppIdentity, TEST_EPP_VENDOR } from '../helpers/epp-vendor.js';
import { FAST_SCRYPT, KIOSK_ID, startKioskRig } from '../kiosk/core/kiosk-rig.js';
import { startKSharedMitm } from './k-shared-mitm.js';
import { recordScenarioResult } from './results.js';

const hkdf = (ikm: Buffer, info: string, salt = Buffer.alloc(0)) => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));

test('a stolen K_SHARED alone yields no PIN: the traffic of a sign-in and requests as the kiosk give neither the PIN nor the PIN key', async (t) => {
  const host = await startTestHost({ operations: createHostOperations({ scryptCost: FAST_SCRYPT }) });
  const kShared = await host.addDevice(KIOSK_ID);
  const mitm = await startKSharedMitm(host.port, KIOSK_ID, kShared);
  const rig = await startKioskRig({ host, kShared, pinPad: 'epp-simulated', config: { port: mitm.port } });
  t.teardown(async () => {
    await rig.close();
    await mitm.close();
    await host.close();
  });
  const card = await rig.customer('victim', 10_000);
  rig.swipe(card);
  await rig.waitFor((s) => s.screen === 'pin');
  // The pad takes keys once the kiosk's START_PIN_ENTRY reached it.
  t.true(await eventually(() => rig.eppSimulator?.state === 'pin'));
  rig.typePin(card.pin, 'enter');
  await rig.waitFor((s) => s.screen === 'menu', 15_000);

  const seen = mitm.messages;
  const signIns = seen.filter((m) => m.direction === 'kiosk-to-host' && m.document.type === 'signin.card').map((m) => m.document.body as { pan: string; pinBlock: string });
  const deliveries = seen.filter((m) => m.direction === 'host-to-kiosk' && typeof (m.document.result as { keyBlock?: unknown } | undefined)?.keyBlock === 'string').map((m) => m.document.result as { keyBlock: string; ephemeralPublicKey: string });
  const fetches = seen.filter((m) => m.direction === 'kiosk-to-host' && m.document.type === 'pinkey.fetch').map((m) => m.document.body as { eppCertificate: string });
  t.true(signIns.length >= 1 && deliveries.length >= 1 && fetches.length >= 1, `intercepted ${signIns.length} sign-ins, ${deliveries.length} key deliveries, ${fetches.length} fetches`);

  // Keys an attacker makes from K_SHARED: the old PIN key derivation, the key itself, other labels.
  const candidates = [hkdf(kShared, 'atm-kiosk/pin-key/v1'), Buffer.from(kShared), hkdf(kShared, ''), hkdf(kShared, 'atm-kiosk/kbpk/v1'), hkdf(kShared, 'atm-kiosk/pek/v1')];
  let attempts = 0;
  let accepted = 0;
  const violations: string[] = [];
  for (const { pan, pinBlock } of signIns) {
    for (const key of candidates) {
      attempts++;
      try {
        const pin = decodePinBlockFormat4(Buffer.from(pinBlock, 'hex'), pan, key);
        accepted++;
        if (pin === card.pin) violations.push('the PIN block deciphered under a key made from K_SHARED');
      } catch {
        // Refused: the block is under the PIN pad's own key.
      }
    }
  }
  for (const { keyBlock } of deliveries) {
    for (const key of candidates) {
      attempts++;
      if (await unwrapKeyBlock(key, keyBlock).then(() => true, () => false)) accepted++;
    }
  }

  // The attacker asks the host itself, as the kiosk (K_SHARED is all the channel asks for).
  const attacker = new ChannelClient({ host: '127.0.0.1', port: host.port, deviceId: KIOSK_ID, kShared, limits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200 } });
  t.teardown(() => attacker.close());
  attacker.start();
  await attacker.waitConnected(5_000);
  const own = generateKeyPairSync('x25519');
  attempts++;
  const withPadCert = await attacker.request('pinkey.fetch', { eppCertificate: fetches[0]!.eppCertificate });
  for (const key of candidates) {
    attempts++;
    if (await unwrapKeyBlock(key, withPadCert.keyBlock).then(() => true, () => false)) accepted++;
  }
  // Its own X25519 key cannot stand in for the pad's: the KBPK is bound to the pad's key pair.
  const serial = fetches[0]!.eppCertificate.split(' ')[3]!;
  if (await receivePinKey(own.privateKey, serial, KIOSK_ID, Buffer.from(withPadCert.ephemeralPublicKey, 'hex'), withPadCert.keyBlock).then(() => true, () => false)) accepted++;
  // A certificate from the attacker's own CA under the vendor's name, and a genuine pad of the vendor.
  const ownCa = generateKeyPairSync('ed25519');
  const forged = issueEppCertificate(ownCa.privateKey, TEST_EPP_VENDOR, 'EVIL0001', rawPublicKey(own.publicKey));
  const answers: Record<string, number> = {};
  for (const certificate of [forged, testEppIdentity('BOUGHT01').certificate]) {
    attempts++;
    const outcome = await requestOutcome(attacker.request('pinkey.fetch', { eppCertificate: certificate }));
    answers[outcome] = (answers[outcome] ?? 0) + 1;
    if (outcome === 'ok') accepted++;
  }

  await recordScenarioResult({
    scenario: 'a stolen K_SHARED alone yields no PIN',
    part: 'mitm',
    iterations: attempts,
    faultsInjected: attempts,
    acknowledged: accepted,
    lost: null,
    duplicated: null,
    invariantViolations: violations.length,
    measurements: { 'messages read in clear': seen.length, 'refusals of the attacker’s fetches': Object.entries(answers).map(([k, n]) => `${k} ${n}`).join(', ') },
  });
  t.deepEqual(answers, { EPP_UNTRUSTED: 1, EPP_MISMATCH: 1 });
  t.is(accepted, 0);
  t.deepEqual(violations, []);
});
