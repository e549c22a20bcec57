// How a kiosk's PIN encryption key (PEK) reaches its encrypting PIN pad (EPP) without anyone between them,
// the kiosk's own software included, being able to read it. TR-34-like, on X25519 and HKDF:
//
//   enrollment  The EPP leaves its factory with an X25519 key pair; its vendor's certificate authority
//               signs the public half (Ed25519). The host trusts the vendor CA's public key.
//   delivery    The host checks the EPP's certificate under a trusted CA, makes an ephemeral X25519 key
//               pair and derives the key-block protection key (KBPK) from the shared secret:
//                 KBPK = HKDF-SHA256(ikm = X25519(host ephemeral, EPP), salt = host ephemeral public ‖ EPP
//                        public, info = KBPK_HKDF_INFO ‖ '|' ‖ device id ‖ '|' ‖ EPP serial), 32 bytes
//               and wraps the PEK under it as an ANSI X9.143 / TR-31 version D key block (AES-256, usage P0,
//               mode E, not exportable) whose optional blocks carry the PEK's check value (KC), the KBPK's
//               (KP) and a label naming the device and PEK version (LB). The EPP derives the same KBPK from
//               its private key and the host's ephemeral public key, verifies the block, and keeps the PEK.
//
// A stolen K_SHARED (the channel key) gives none of this: the PEK is random, never derived from K_SHARED,
// and its key block opens only with the EPP's private key. docs/keys.md describes the hierarchy.
//
// Certificate (one line of printable ASCII):
//   atm-epp-cert v1 <vendor> <serial> <X25519 public key, 64 hex> <Ed25519 signature, 128 hex>
// signed over everything before the signature (without the separating space). Vendor CA file line:
//   atm-epp-ca v1 <vendor> <Ed25519 public key, 64 hex>
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';
import { keyCheckValue, parseKeyBlockHeader, unwrapKeyBlock, wrapKeyBlock, type KeyBlockHeader } from './key-block.js';
import { DEVICE_ID_PATTERN, EPP_CERTIFICATE_MAX_CHARS, PEK_KEY_BLOCK_MAX_CHARS } from './limits.js';

export const EPP_CERT_MAGIC = 'atm-epp-cert v1';
export const EPP_CA_MAGIC = 'atm-epp-ca v1';
export const KBPK_HKDF_INFO = 'atm-kiosk/kbpk/v1';
// The bounds on a certificate and a key block on the wire are in limits.ts (messages.ts, which the
// renderer's types reach, uses them without this module's Node crypto).
export { EPP_CERTIFICATE_MAX_CHARS, PEK_KEY_BLOCK_MAX_CHARS } from './limits.js';
export const PEK_BYTES = 32;
/** Vendor and serial: what EPP makers print on the label, bounded. */
const VENDOR_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
const SERIAL_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
/** X25519 public keys in SubjectPublicKeyInfo DER: this prefix, then the 32 raw bytes. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export class PinKeyDeliveryError extends Error {
  constructor(
    readonly code: 'BAD_CERTIFICATE' | 'UNTRUSTED_CERTIFICATE' | 'BAD_KEY_BLOCK' | 'WRONG_DEVICE' | 'KCV_MISMATCH' | 'BAD_KEY',
    message: string,
  ) {
    super(message);
    this.name = 'PinKeyDeliveryError';
  }
}

export interface EppCertificate {
  readonly vendor: string;
  readonly serial: string;
  /** The EPP's X25519 public key, 32 raw bytes. */
  readonly publicKey: Buffer;
  /** The certificate's text, as the EPP gave it. */
  readonly text: string;
}

export interface VendorCa {
  readonly vendor: string;
  /** Ed25519 public key, 32 raw bytes. */
  readonly publicKey: Buffer;
}

const x25519Public = (raw: Buffer): KeyObject => createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
const ed25519Public = (raw: Buffer): KeyObject => createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
export const rawPublicKey = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'der', type: 'spki' }).subarray(-32));
export const rawPrivateKey = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'der', type: 'pkcs8' }).subarray(-32));
export const x25519PrivateFromRaw = (raw: Buffer): KeyObject => createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });

/** The vendor's side (tests, the simulator's tools): signs an EPP's public key. */
export function issueEppCertificate(caPrivateKey: KeyObject, vendor: string, serial: string, eppPublicKey: Buffer): string {
  if (!VENDOR_PATTERN.test(vendor) || !SERIAL_PATTERN.test(serial)) throw new PinKeyDeliveryError('BAD_CERTIFICATE', 'vendor and serial are 1-32 of A-Z a-z 0-9 . _ -');
  if (eppPublicKey.length !== 32) throw new PinKeyDeliveryError('BAD_CERTIFICATE', 'an X25519 public key is 32 bytes');
  const body = `${EPP_CERT_MAGIC} ${vendor} ${serial} ${eppPublicKey.toString('hex')}`;
  return `${body} ${sign(null, Buffer.from(body, 'ascii'), caPrivateKey).toString('hex')}`;
}

export function formatVendorCa(vendor: string, caPublicKey: KeyObject): string {
  if (!VENDOR_PATTERN.test(vendor)) throw new PinKeyDeliveryError('BAD_CERTIFICATE', 'a vendor name is 1-32 of A-Z a-z 0-9 . _ -');
  return `${EPP_CA_MAGIC} ${vendor} ${rawPublicKey(caPublicKey).toString('hex')}\n`;
}

/** Parses a vendor CA file (one CA a line; blank lines and # comments allowed). */
export function parseVendorCas(text: string): VendorCa[] {
  const cas: VendorCa[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^atm-epp-ca v1 ([A-Za-z0-9._-]{1,32}) ([0-9a-f]{64})$/.exec(line);
    if (!match) throw new PinKeyDeliveryError('BAD_CERTIFICATE', `line ${index + 1} is not "${EPP_CA_MAGIC} VENDOR PUBLIC-KEY-HEX"`);
    cas.push({ vendor: match[1]!, publicKey: Buffer.from(match[2]!, 'hex') });
  }
  return cas;
}

/** Parses a certificate and checks its signature under the CA of its vendor among `trusted`. */
export function verifyEppCertificate(text: string, trusted: readonly VendorCa[]): EppCertificate {
  if (typeof text !== 'string' || text.length > EPP_CERTIFICATE_MAX_CHARS) throw new PinKeyDeliveryError('BAD_CERTIFICATE', 'not an EPP certificate: wrong length');
  const match = /^atm-epp-cert v1 ([A-Za-z0-9._-]{1,32}) ([A-Za-z0-9._-]{1,32}) ([0-9a-f]{64}) ([0-9a-f]{128})$/.exec(text);
  if (!match) throw new PinKeyDeliveryError('BAD_CERTIFICATE', `not an EPP certificate (it must be "${EPP_CERT_MAGIC} VENDOR SERIAL KEY SIGNATURE")`);
  const [, vendor, serial, keyHex, signatureHex] = match as unknown as [string, string, string, string, string];
  const body = text.slice(0, text.length - 129);
  const signed = trusted.some((ca) => ca.vendor === vendor && verify(null, Buffer.from(body, 'ascii'), ed25519Public(ca.publicKey), Buffer.from(signatureHex, 'hex')));
  if (!signed) throw new PinKeyDeliveryError('UNTRUSTED_CERTIFICATE', `the certificate of EPP ${serial} is not signed by a trusted CA of vendor ${vendor}`);
  return { vendor, serial, publicKey: Buffer.from(keyHex, 'hex'), text };
}

function deriveKbpk(shared: Buffer, hostEphemeralPublic: Buffer, eppPublic: Buffer, deviceId: string, serial: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([hostEphemeralPublic, eppPublic]), `${KBPK_HKDF_INFO}|${deviceId}|${serial}`, 32));
}

const pekLabel = (deviceId: string, pekVersion: number) => `atm:${deviceId}:pek:${pekVersion}`;

export interface PinKeyDelivery {
  /** The host's ephemeral X25519 public key, 32 bytes, hex. */
  readonly ephemeralPublicKey: string;
  /** The PEK as a TR-31 version D key block under the KBPK. */
  readonly keyBlock: string;
  readonly pinKeyVersion: number;
  /** The PEK's AES-CMAC check value. */
  readonly kcv: string;
}

/** The host's side: wraps `pek` for the EPP of `certificate` (already verified), on device `deviceId`. */
export async function deliverPinKey(certificate: EppCertificate, deviceId: string, pek: Buffer, pekVersion: number): Promise<PinKeyDelivery> {
  if (pek.length !== PEK_BYTES) throw new PinKeyDeliveryError('BAD_KEY', `a PEK is ${PEK_BYTES} bytes (AES-256)`);
  if (!DEVICE_ID_PATTERN.test(deviceId)) throw new PinKeyDeliveryError('WRONG_DEVICE', 'not a device id');
  if (!Number.isSafeInteger(pekVersion) || pekVersion < 1) throw new PinKeyDeliveryError('BAD_KEY', 'the PEK version is a positive integer');
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralPublic = rawPublicKey(ephemeral.publicKey);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: x25519Public(certificate.publicKey) });
  const kbpk = deriveKbpk(shared, ephemeralPublic, certificate.publicKey, deviceId, certificate.serial);
  shared.fill(0);
  try {
    const kcv = await keyCheckValue(pek);
    const header: KeyBlockHeader = {
      keyUsage: 'P0',
      algorithm: 'A',
      modeOfUse: 'E',
      keyVersion: '00',
      exportability: 'N',
      optionalBlocks: [
        { id: 'KC', data: `01${kcv}` },
        { id: 'KP', data: `01${await keyCheckValue(kbpk)}` },
        { id: 'LB', data: pekLabel(deviceId, pekVersion) },
      ],
    };
    return { ephemeralPublicKey: ephemeralPublic.toString('hex'), keyBlock: await wrapKeyBlock(kbpk, header, pek), pinKeyVersion: pekVersion, kcv };
  } finally {
    kbpk.fill(0);
  }
}

export interface ReceivedPinKey {
  readonly pek: Buffer;
  readonly pinKeyVersion: number;
  readonly kcv: string;
  readonly kbpkKcv: string;
}

/** The EPP's side of the key agreement: the KBPK from its private key and the host's ephemeral public key,
 *  bound to `deviceId` and its serial. The caller keeps it for the key block and zeroes it. */
export function deriveEppKbpk(eppPrivateKey: KeyObject, serial: string, deviceId: string, ephemeralPublicKey: Buffer): Buffer {
  if (ephemeralPublicKey.length !== 32) throw new PinKeyDeliveryError('BAD_KEY_BLOCK', 'the host ephemeral key is 32 bytes');
  if (!DEVICE_ID_PATTERN.test(deviceId)) throw new PinKeyDeliveryError('WRONG_DEVICE', 'not a device id');
  const eppPublic = rawPublicKey(createPublicKey(eppPrivateKey));
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: eppPrivateKey, publicKey: x25519Public(ephemeralPublicKey) });
  } catch {
    throw new PinKeyDeliveryError('BAD_KEY_BLOCK', 'the host ephemeral key is not an X25519 public key');
  }
  try {
    return deriveKbpk(shared, ephemeralPublicKey, eppPublic, deviceId, serial);
  } finally {
    shared.fill(0);
  }
}

/** The EPP's side: derives the KBPK (deriveEppKbpk) and opens the block (openPinKeyBlock). */
export async function receivePinKey(eppPrivateKey: KeyObject, serial: string, deviceId: string, ephemeralPublicKey: Buffer, keyBlock: string): Promise<ReceivedPinKey> {
  const kbpk = deriveEppKbpk(eppPrivateKey, serial, deviceId, ephemeralPublicKey);
  try {
    return await openPinKeyBlock(kbpk, deviceId, keyBlock);
  } finally {
    kbpk.fill(0);
  }
}

/** Verifies a PEK key block under `kbpk` (MAC, usage P0, AES, mode E, not exportable), checks it is for
 *  `deviceId` and that the key inside matches the check value the block states. Every refusal is a
 *  PinKeyDeliveryError. */
export async function openPinKeyBlock(kbpk: Buffer, deviceId: string, keyBlock: string): Promise<ReceivedPinKey> {
  if (typeof keyBlock !== 'string' || keyBlock.length > PEK_KEY_BLOCK_MAX_CHARS) throw new PinKeyDeliveryError('BAD_KEY_BLOCK', 'the key block is too long');
  let header;
  try {
    header = parseKeyBlockHeader(keyBlock);
  } catch (error) {
    throw new PinKeyDeliveryError('BAD_KEY_BLOCK', (error as Error).message);
  }
  const label = header.optionalBlocks.find((b) => b.id === 'LB')?.data ?? '';
  const labelMatch = /^atm:([a-z0-9-]+):pek:([1-9][0-9]{0,8})$/.exec(label);
  if (!labelMatch || labelMatch[1] !== deviceId) throw new PinKeyDeliveryError('WRONG_DEVICE', `the key block is not for device ${deviceId}`);
  let key: Buffer | undefined;
  try {
    let unwrapped;
    try {
      unwrapped = await unwrapKeyBlock(kbpk, keyBlock);
    } catch (error) {
      throw new PinKeyDeliveryError('BAD_KEY_BLOCK', (error as Error).message);
    }
    key = unwrapped.key;
    const h = unwrapped.header;
    if (h.keyUsage !== 'P0' || h.algorithm !== 'A' || h.modeOfUse !== 'E' || h.exportability !== 'N') {
      throw new PinKeyDeliveryError('BAD_KEY_BLOCK', 'the key block is not a non-exportable AES PIN encryption key (P0, A, E, N)');
    }
    if (key.length !== PEK_BYTES) throw new PinKeyDeliveryError('BAD_KEY_BLOCK', 'the PIN encryption key is not AES-256');
    const kcv = await keyCheckValue(key);
    const stated = h.optionalBlocks.find((b) => b.id === 'KC')?.data;
    if (stated !== `01${kcv}`) throw new PinKeyDeliveryError('KCV_MISMATCH', 'the key in the block does not match the check value the block states');
    const pek = key;
    key = undefined;
    return { pek, pinKeyVersion: Number(labelMatch[2]), kcv, kbpkKcv: await keyCheckValue(kbpk) };
  } finally {
    key?.fill(0);
  }
}
