// `pinkey.fetch`: the kiosk's EPP asks for the device's current PIN encryption key. The host checks the
// EPP's certificate under the vendor CAs it trusts, pins the EPP to the device the first time (refusing
// another afterwards: an operator replaces it with `device rotate-pin-key ID --replace-epp`), and answers
// the PEK wrapped for that EPP alone (protocol/pin-key-delivery.ts). The kiosk's software relays the
// answer to the EPP and cannot open it; nor can anyone holding K_SHARED.
import { ProtocolError } from '../../protocol/errors.js';
import { deliverPinKey, PinKeyDeliveryError, verifyEppCertificate, type EppCertificate } from '../../protocol/pin-key-delivery.js';
import { DeviceRegistryError } from '../errors.js';
import type { OperationTable } from './context.js';
import { type Work, operation } from './run.js';

const fetchPinKey: Work<'pinkey.fetch'> = async (run, { eppCertificate }) => {
  let certificate: EppCertificate;
  try {
    certificate = verifyEppCertificate(eppCertificate, run.services.eppVendorCas ?? []);
  } catch (error) {
    if (error instanceof PinKeyDeliveryError) throw new ProtocolError('EPP_UNTRUSTED');
    throw error;
  }
  run.detail.eppSerial = certificate.serial;
  try {
    await run.ctx.enrollEpp({ vendor: certificate.vendor, serial: certificate.serial, publicKey: certificate.publicKey.toString('hex') });
  } catch (error) {
    if (error instanceof DeviceRegistryError && error.code === 'EPP_MISMATCH') throw new ProtocolError('EPP_MISMATCH');
    throw error;
  }
  const pinKey = run.ctx.devicePinKey();
  try {
    const delivery = await deliverPinKey(certificate, run.ctx.connection.deviceId, pinKey.key, pinKey.version);
    run.detail.pinKeyVersion = delivery.pinKeyVersion;
    run.detail.pinKeyKcv = delivery.kcv;
    return await run.succeed(delivery);
  } finally {
    pinKey.key.fill(0);
  }
};

export const pinKeyOperations: OperationTable = {
  'pinkey.fetch': operation(fetchPinKey),
};
