// The checks every command from the UI makes before it does anything: is it possible on this screen, and
// are its arguments in range. A failed check is a KioskCommandError: a UI bug or a race (a double tap),
// never a customer error, which the UI handlers turn into a refused command. Customer outcomes are never
// thrown: they arrive as the next snapshot's screen and notice.
import { KioskError } from '../common/errors.js';
import type { CustomerSession } from './session.js';
import type { Screen } from './ui-contract.js';

export type KioskCommandErrorCode = 'WRONG_STATE' | 'BAD_ARGUMENT' | 'NOT_ON_SCREEN';

/** A command the UI may not give now, or gave with a bad argument. */
export class KioskCommandError extends KioskError<KioskCommandErrorCode> {
  constructor(code: KioskCommandErrorCode, message: string) {
    super(code, message);
    this.name = 'KioskCommandError';
  }
}

/** Refuses a command given on any other screen; a command that is accepted is customer activity. */
export function requireScreen(session: CustomerSession, ...screens: Screen[]): void {
  if (!screens.includes(session.screen)) {
    throw new KioskCommandError('WRONG_STATE', `not possible on the ${session.screen} screen`);
  }
  session.touch();
}

export function checkCents(amountCents: number): void {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) throw new KioskCommandError('BAD_ARGUMENT', 'an amount is a positive whole number of cents');
}

export function checkText(value: string, maxChars: number, name: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxChars) throw new KioskCommandError('BAD_ARGUMENT', `${name}: 1..${maxChars} characters`);
}
