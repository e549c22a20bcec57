// Password sign-in lockout with backoff, counted durably per username (so a host restart does not reset
// it). The first PASSWORD_FAILURES_FREE failures in a row cost nothing but the scrypt time; each further
// failure locks the username for twice as long as the last, up to a cap. A correct password resets it.
// While locked, attempts are refused without checking the password and without extending the lock, so
// an attacker cannot keep a customer out for longer than the cap by hammering.
import type { PasswordFailureRecord } from './records.js';

export const PASSWORD_FAILURES_FREE = 4;
export const LOCKOUT_BASE_MS = 30_000;
export const LOCKOUT_MAX_MS = 60 * 60_000;

export const NO_FAILURES: PasswordFailureRecord = { failures: 0, lockedUntilMs: 0 };

export function isLockedOut(record: PasswordFailureRecord, nowMs: number): boolean {
  return nowMs < record.lockedUntilMs;
}

/** The record after one more failure at `nowMs`: the 5th failure in a row locks for 30 s, the 6th 60 s,
 *  the 7th 2 min, ... capped at one hour. */
export function recordFailure(record: PasswordFailureRecord, nowMs: number): PasswordFailureRecord {
  const failures = record.failures + 1;
  if (failures <= PASSWORD_FAILURES_FREE) return { failures, lockedUntilMs: 0 };
  const exponent = Math.min(failures - PASSWORD_FAILURES_FREE - 1, 30);
  return { failures, lockedUntilMs: nowMs + Math.min(LOCKOUT_BASE_MS * 2 ** exponent, LOCKOUT_MAX_MS) };
}
