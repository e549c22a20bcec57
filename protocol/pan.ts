// Card numbers (PANs) as both ends handle them: length bounds, the Luhn check digit, and the only form in
// which a PAN may be logged or shown. Shared by the card reader and the bank host.

/** ISO/IEC 7812 card numbers are 12 to 19 digits. */
export const CARD_PAN_DIGITS_MIN = 12;
export const CARD_PAN_DIGITS_MAX = 19;
/** Digits of a PAN that may appear in logs, receipts and on screen (PCI DSS allows at most the last four). */
export const PAN_VISIBLE_DIGITS = 4;

/** The Luhn (ISO/IEC 7812-1 annex B) check digit for `payload`, the digits to its left. */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  // Doubling starts from the rightmost payload digit, since the check digit will sit to its right.
  for (let i = 0; i < payload.length; i++) {
    let digit = payload.charCodeAt(payload.length - 1 - i) - 0x30;
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when `digits` is all decimal digits and its last digit is the Luhn check digit of the rest. */
export function isLuhnValid(digits: string): boolean {
  return /^[0-9]{2,19}$/.test(digits) && luhnCheckDigit(digits.slice(0, -1)) === Number(digits.at(-1));
}

/** The last four digits: what a receipt, a log line or an audit record may show. */
export function panLast4(pan: string): string {
  return pan.slice(-PAN_VISIBLE_DIGITS);
}

/** `…1234`: the form of a PAN for logs and messages. Never log a PAN any other way. */
export function maskPan(pan: string): string {
  return `…${panLast4(pan)}`;
}
