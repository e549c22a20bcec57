// Card numbers and card state. PANs are 16 digits: a fixed demo issuer prefix, random digits from the
// CSPRNG, and a Luhn check digit.
import { randomInt } from 'node:crypto';
import { ProtocolError } from '../../protocol/errors.js';
import { isLuhnValid, luhnCheckDigit } from '../../protocol/pan.js';
import type { CardRecord } from './records.js';

export { isLuhnValid, luhnCheckDigit };

/** Demo issuer identification number. Major industry identifier 9 is "for assignment by national
 *  standards bodies", so no real card network issues these; a demo card can never be mistaken for a
 *  real one. */
export const DEMO_IIN = '999001';
export const PAN_DIGITS = 16;
export const CARD_VALIDITY_YEARS = 4;

export function generatePan(): string {
  let payload = DEMO_IIN;
  while (payload.length < PAN_DIGITS - 1) payload += String(randomInt(0, 10));
  return payload + String(luhnCheckDigit(payload));
}

/** `YYYY-MM` of the month the card expires at the end of: this month, CARD_VALIDITY_YEARS on. */
export function expiryFor(issuedMs: number): string {
  const issued = new Date(issuedMs);
  const year = issued.getUTCFullYear() + CARD_VALIDITY_YEARS;
  return `${year}-${String(issued.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function isExpired(expiresYm: string, nowMs: number): boolean {
  const [year, month] = expiresYm.split('-').map(Number) as [number, number];
  // Valid through the last millisecond of the expiry month: Date.UTC with month index `month` is the
  // first instant of the following month.
  return nowMs >= Date.UTC(year, month, 1);
}

/** Throws the error a kiosk should show for a card that cannot be used now. */
export function requireUsableCard(card: CardRecord | undefined, nowMs: number): CardRecord {
  if (card === undefined) throw new ProtocolError('CARD_UNKNOWN');
  if (card.status === 'blocked') throw new ProtocolError('CARD_BLOCKED');
  if (isExpired(card.expiresYm, nowMs)) throw new ProtocolError('CARD_EXPIRED');
  return card;
}
