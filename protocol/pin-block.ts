// ISO 9564-1:2017 PIN block format 4 (the AES PIN block), shared by the kiosk (which enciphers) and the
// bank host (which deciphers). It imports only node:crypto so that both sides can load it.
//
//   plain PIN field (16 bytes): C=4 | N (PIN length) | N PIN digits | fill 0xA up to nibble 16 |
//                               8 random bytes
//   PAN field (16 bytes):       M (PAN length − 12, or 0 when shorter) | PAN, left-padded with 0 to 12
//                               digits when shorter than 12 | 0 up to nibble 32
//   encipher:  I = AES(K, PIN field); B = I XOR PAN field; block = AES(K, B)
//   decipher:  B = AES⁻¹(K, block); I = B XOR PAN field; PIN field = AES⁻¹(K, I)
//
// The PAN is bound into the block: deciphering with another PAN (or key) yields a random PIN field, which
// the structure checks reject (see PinBlockError). A PIN never appears in an error message.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const PIN_BLOCK_BYTES = 16;
export const PIN_DIGITS_MIN = 4;
export const PIN_DIGITS_MAX = 12;
/** ISO 9564-1 format 4 accepts a PAN of 1 to 19 digits (ISO/IEC 7812 allows at most 19). */
export const PAN_DIGITS_MIN = 1;
export const PAN_DIGITS_MAX = 19;
export const PIN_FIELD_RANDOM_BYTES = 8;
/** AES-128, AES-192 and AES-256 keys. */
export const PIN_KEY_BYTES_ALLOWED: readonly number[] = [16, 24, 32];
/** The PIN encryption key each kiosk's EPP holds: AES-256, random, delivered as a key block
 *  (protocol/pin-key-delivery.ts); never derived from K_SHARED. */
export const PIN_KEY_BYTES = 32;

const CONTROL_FORMAT_4 = 0x4;
const FILL_NIBBLE = 0xa;
/** The PIN field's first 8 bytes = 16 nibbles: control, length, up to 12 digits, fill. */
const PIN_FIELD_NIBBLES_FIXED = 16;
/** PAN digits held in the PAN field beyond which the length indicator counts. */
const PAN_FIELD_BASE_DIGITS = 12;

export type PinBlockErrorCode =
  | 'BAD_PIN' // the PIN to encode is not 4..12 decimal digits
  | 'BAD_PAN' // the PAN is not 1..19 decimal digits
  | 'BAD_KEY' // the key is not 16, 24 or 32 bytes
  | 'BAD_RANDOM' // the caller-supplied random padding is not 8 bytes
  | 'BAD_BLOCK_LENGTH' // the block to decode is not 16 bytes
  | 'BAD_CONTROL_FIELD' // the deciphered PIN field is not format 4 (wrong key, PAN or a tampered block)
  | 'BAD_PIN_LENGTH' // the deciphered PIN length is outside 4..12 (same causes)
  | 'BAD_PIN_DIGIT' // a deciphered PIN nibble is not a decimal digit (same causes)
  | 'BAD_FILL'; // a deciphered fill nibble is not 0xA (same causes)

/** The one error type of this module. The message never contains a PIN, a PAN or key material; the bank
 *  host maps every decode code to one channel error (BAD_PIN_BLOCK) so a caller learns nothing more. */
export class PinBlockError extends Error {
  constructor(
    readonly code: PinBlockErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PinBlockError';
  }
}

/** Enciphers a PIN given as a string of decimal digits. */
export function encodePinBlockFormat4(pin: string, pan: string, key: Buffer, random?: Buffer): Buffer {
  if (typeof pin !== 'string' || pin.length < PIN_DIGITS_MIN || pin.length > PIN_DIGITS_MAX || !/^[0-9]+$/.test(pin)) {
    throw new PinBlockError('BAD_PIN', `the PIN must be ${PIN_DIGITS_MIN} to ${PIN_DIGITS_MAX} decimal digits`);
  }
  const digits = new Uint8Array(pin.length);
  for (let i = 0; i < pin.length; i++) digits[i] = pin.charCodeAt(i) - 0x30;
  try {
    return encodePinBlockFormat4FromDigits(digits, pan, key, random);
  } finally {
    digits.fill(0);
  }
}

/** Enciphers a PIN given as digit values 0..9, one per element. The PIN pad uses this form so that the
 *  PIN never becomes a (immutable, uncollectable-on-demand) JavaScript string. Every intermediate buffer
 *  that holds the PIN is overwritten before returning; the caller zeroes `digits`. */
export function encodePinBlockFormat4FromDigits(digits: Uint8Array, pan: string, key: Buffer, random?: Buffer): Buffer {
  if (digits.length < PIN_DIGITS_MIN || digits.length > PIN_DIGITS_MAX || !digits.every((d) => d <= 9)) {
    throw new PinBlockError('BAD_PIN', `the PIN must be ${PIN_DIGITS_MIN} to ${PIN_DIGITS_MAX} decimal digits`);
  }
  const panField = encodePanField(pan);
  checkKey(key);
  const padding = random ?? randomBytes(PIN_FIELD_RANDOM_BYTES);
  if (padding.length !== PIN_FIELD_RANDOM_BYTES) {
    throw new PinBlockError('BAD_RANDOM', `the random padding must be ${PIN_FIELD_RANDOM_BYTES} bytes`);
  }

  const pinField = Buffer.alloc(PIN_BLOCK_BYTES);
  const nibbles = [CONTROL_FORMAT_4, digits.length, ...digits];
  while (nibbles.length < PIN_FIELD_NIBBLES_FIXED) nibbles.push(FILL_NIBBLE);
  for (let i = 0; i < PIN_FIELD_NIBBLES_FIXED; i += 2) pinField[i / 2] = (nibbles[i]! << 4) | nibbles[i + 1]!;
  nibbles.fill(0);
  padding.copy(pinField, PIN_BLOCK_BYTES - PIN_FIELD_RANDOM_BYTES);

  const intermediate = aesBlock(key, pinField, 'encrypt');
  pinField.fill(0);
  xorInPlace(intermediate, panField);
  const block = aesBlock(key, intermediate, 'encrypt');
  intermediate.fill(0);
  return block;
}

/** Deciphers a format-4 PIN block bound to `pan` and returns the PIN; throws PinBlockError. */
export function decodePinBlockFormat4(block: Buffer, pan: string, key: Buffer): string {
  if (block.length !== PIN_BLOCK_BYTES) {
    throw new PinBlockError('BAD_BLOCK_LENGTH', `a format 4 PIN block is ${PIN_BLOCK_BYTES} bytes, got ${block.length}`);
  }
  const panField = encodePanField(pan);
  checkKey(key);

  const intermediate = aesBlock(key, block, 'decrypt');
  xorInPlace(intermediate, panField);
  const pinField = aesBlock(key, intermediate, 'decrypt');
  intermediate.fill(0);
  try {
    return readPinField(pinField);
  } finally {
    pinField.fill(0);
  }
}

function readPinField(pinField: Buffer): string {
  const nibble = (index: number): number => {
    const byte = pinField[index >> 1]!;
    return index % 2 === 0 ? byte >> 4 : byte & 0x0f;
  };
  // The messages name the failed check only: with a wrong key or PAN these nibbles are random, and a
  // right key with a tampered block must not leak anything about the PIN either.
  if (nibble(0) !== CONTROL_FORMAT_4) {
    throw new PinBlockError('BAD_CONTROL_FIELD', 'the PIN field is not format 4 (wrong key or PAN, or a damaged block)');
  }
  const length = nibble(1);
  if (length < PIN_DIGITS_MIN || length > PIN_DIGITS_MAX) {
    throw new PinBlockError('BAD_PIN_LENGTH', 'the PIN length in the PIN field is out of range (wrong key or PAN, or a damaged block)');
  }
  let pin = '';
  for (let i = 2; i < 2 + length; i++) {
    const digit = nibble(i);
    if (digit > 9) {
      throw new PinBlockError('BAD_PIN_DIGIT', 'the PIN field holds a non-digit (wrong key or PAN, or a damaged block)');
    }
    pin += String.fromCharCode(0x30 + digit);
  }
  for (let i = 2 + length; i < PIN_FIELD_NIBBLES_FIXED; i++) {
    if (nibble(i) !== FILL_NIBBLE) {
      throw new PinBlockError('BAD_FILL', 'the PIN field fill is not 0xA (wrong key or PAN, or a damaged block)');
    }
  }
  return pin;
}

function encodePanField(pan: string): Buffer {
  if (typeof pan !== 'string' || pan.length < PAN_DIGITS_MIN || pan.length > PAN_DIGITS_MAX || !/^[0-9]+$/.test(pan)) {
    throw new PinBlockError('BAD_PAN', `the PAN must be ${PAN_DIGITS_MIN} to ${PAN_DIGITS_MAX} decimal digits`);
  }
  // ISO 9564-1:2017 format 4: M = PAN length − 12 (0 for shorter PANs, which are left-padded with zeros
  // to 12 digits), then the PAN, then zero pad to 32 nibbles.
  const indicator = Math.max(0, pan.length - PAN_FIELD_BASE_DIGITS);
  const hex = (indicator.toString(16) + pan.padStart(PAN_FIELD_BASE_DIGITS, '0')).padEnd(PIN_BLOCK_BYTES * 2, '0');
  return Buffer.from(hex, 'hex');
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || !PIN_KEY_BYTES_ALLOWED.includes(key.length)) {
    throw new PinBlockError('BAD_KEY', `the PIN key must be ${PIN_KEY_BYTES_ALLOWED.join(', ')} bytes (AES)`);
  }
}

/** One AES block in ECB mode: format 4 applies the block cipher to exactly one 16-byte block at a time,
 *  so ECB here is the raw block cipher, not a mode over longer data. */
function aesBlock(key: Buffer, input: Buffer, direction: 'encrypt' | 'decrypt'): Buffer {
  const algorithm = `aes-${key.length * 8}-ecb`;
  const cipher = direction === 'encrypt' ? createCipheriv(algorithm, key, null) : createDecipheriv(algorithm, key, null);
  cipher.setAutoPadding(false);
  const output = Buffer.concat([cipher.update(input), cipher.final()]);
  if (output.length !== PIN_BLOCK_BYTES) throw new Error(`AES produced ${output.length} bytes, expected ${PIN_BLOCK_BYTES}`);
  return output;
}

function xorInPlace(target: Buffer, mask: Buffer): void {
  for (let i = 0; i < target.length; i++) target[i] = target[i]! ^ mask[i]!;
}
