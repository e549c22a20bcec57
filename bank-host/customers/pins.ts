// PINs. The host stores a PIN verification value: HMAC-SHA256 under the host's pin-verify key over a
// domain label, the PAN and the PIN. A 4-digit PIN has only 10,000 values, so no salted hash, however
// slow, survives someone who has the database; a keyed MAC does, because the key is not in the database.
// Binding the PAN means equal PINs on two cards give different values.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { PIN_DIGITS_MAX, PIN_DIGITS_MIN } from '../../protocol/pin-block.js';

const PIN_VERIFY_LABEL = 'atm-kiosk/pin-verify/v1';
export const ISSUED_PIN_DIGITS = 4;

export function isWellFormedPin(pin: string): boolean {
  return pin.length >= PIN_DIGITS_MIN && pin.length <= PIN_DIGITS_MAX && /^[0-9]+$/.test(pin);
}

export function pinVerificationValue(pinVerifyKey: Buffer, pan: string, pin: string): string {
  if (!isWellFormedPin(pin)) throw new Error(`a PIN is ${PIN_DIGITS_MIN} to ${PIN_DIGITS_MAX} digits`);
  // NUL separators: neither the PAN nor the PIN can contain one, so the encoding is unambiguous.
  return createHmac('sha256', pinVerifyKey).update(`${PIN_VERIFY_LABEL}\0${pan}\0${pin}`, 'utf8').digest('hex');
}

/** PIN blocks a card remembers: a block seen before for the card is refused (BAD_PIN_BLOCK), so whoever
 *  read a sign-in (a holder of the kiosk's K_SHARED on its path) cannot resend its block. Every format-4
 *  block a PIN pad makes is new (8 random bytes), so a customer never meets this. */
export const RECENT_PIN_BLOCKS_MAX = 8;

/** What a card record keeps of a PIN block: a keyed hash (16 bytes, hex) bound to the card, never the block. */
export function pinBlockMark(pinVerifyKey: Buffer, cardId: string, pinBlockHex: string): string {
  return createHmac('sha256', pinVerifyKey).update(`atm-kiosk/pin-block-seen/v1|${cardId}|${pinBlockHex.toLowerCase()}`).digest('hex').slice(0, 32);
}

export function pinMatches(pinVerifyKey: Buffer, pan: string, pin: string, storedValue: string): boolean {
  if (!isWellFormedPin(pin)) return false;
  const actual = Buffer.from(pinVerificationValue(pinVerifyKey, pan, pin), 'hex');
  const expected = Buffer.from(storedValue, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** PINs a thief would try first: one repeated digit, or a straight run up or down. */
function isGuessable(pin: string): boolean {
  const digits = [...pin].map(Number);
  const steps = new Set(digits.slice(1).map((digit, i) => digit - digits[i]!));
  return steps.size === 1 && [0, 1, -1].includes([...steps][0]!);
}

/** A random PIN for a new card, from the CSPRNG, never a guessable one. */
export function generatePin(): string {
  for (;;) {
    const pin = String(randomInt(0, 10 ** ISSUED_PIN_DIGITS)).padStart(ISSUED_PIN_DIGITS, '0');
    if (!isGuessable(pin)) return pin;
  }
}
