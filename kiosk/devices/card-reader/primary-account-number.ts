// The card number (PAN) as the kiosk handles it: its length bounds, its check digit, and the only form
// in which it may be written to a log.

/** The bank issues ISO/IEC 7812 card numbers of 12 to 19 digits; a swipe outside that is not one of ours. */
export const CARD_PAN_DIGITS_MIN = 12;
export const CARD_PAN_DIGITS_MAX = 19;
/** Digits of a PAN that may appear in logs and on screen (PCI DSS allows at most the last four). */
export const PAN_VISIBLE_DIGITS = 4;

/** Luhn (ISO/IEC 7812-1 annex B) check over a string of decimal digits, check digit last. */
export function isLuhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 0x30;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** `…1234`: the form of a PAN for logs and messages. Never log a PAN any other way. */
export function maskPan(pan: string): string {
  return `…${pan.slice(-PAN_VISIBLE_DIGITS)}`;
}
