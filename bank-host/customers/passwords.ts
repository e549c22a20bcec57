// Passwords: scrypt with a per-user random salt, compared in constant time. The hash carries its own cost
// parameters, so raising the cost later still verifies old hashes (and tests can use a cheap cost).
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '../../protocol/errors.js';

export interface ScryptCost {
  /** log2 of scrypt's N (CPU/memory cost). */
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^17, r = 8, p = 1: 128 MiB and roughly 100–300 ms per hash on a server; the OWASP floor. */
export const SCRYPT_COST_PRODUCTION: ScryptCost = { log2N: 17, r: 8, p: 1 };
export const SCRYPT_SALT_BYTES = 16;
export const SCRYPT_KEY_BYTES = 32;
/** Bounds on stored cost parameters, so a corrupted record cannot ask for gigabytes. */
const SCRYPT_LOG2N_MAX = 20;
const SCRYPT_R_MAX = 16;
const SCRYPT_P_MAX = 4;

export const PASSWORD_LENGTH_MIN = 8;
export const PASSWORD_LENGTH_MAX = 128;

/** Password hashes running at once. Each holds 128 MiB, and scrypt runs on the libuv pool that LevelDB
 *  also needs: two at a time keep room for the ledger's reads and writes. */
export const PASSWORD_HASHES_CONCURRENT_MAX = 2;
/** Password hashes waiting for a slot; beyond this a sign-in is refused as retryable rather than queued
 *  without bound. */
export const PASSWORD_HASHES_QUEUED_MAX = 64;

export interface PasswordHash {
  readonly scheme: 'scrypt';
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
  readonly saltB64: string;
  readonly hashB64: string;
}

/** Checks the policy; returns the normalized password (NFC, so the same characters typed on different
 *  keyboards give the same hash). Throws WEAK_PASSWORD. */
export function checkPasswordPolicy(password: string, username: string): string {
  const normalized = password.normalize('NFC');
  const length = [...normalized].length;
  if (length < PASSWORD_LENGTH_MIN) throw new ProtocolError('WEAK_PASSWORD', `the password needs at least ${PASSWORD_LENGTH_MIN} characters`);
  if (length > PASSWORD_LENGTH_MAX) throw new ProtocolError('WEAK_PASSWORD', `the password may have at most ${PASSWORD_LENGTH_MAX} characters`);
  if (normalized.toLowerCase().includes(username.toLowerCase())) {
    throw new ProtocolError('WEAK_PASSWORD', 'the password must not contain the username');
  }
  if (new Set(normalized).size < 3) throw new ProtocolError('WEAK_PASSWORD', 'the password needs at least three different characters');
  return normalized;
}

class HashSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= PASSWORD_HASHES_CONCURRENT_MAX) {
      if (this.waiting.length >= PASSWORD_HASHES_QUEUED_MAX) {
        throw new ProtocolError('INTERNAL', 'the host is busy checking passwords; retry shortly', true);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter, so `running` never dips and lets a newcomer jump the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

const slots = new HashSlots();

function checkCost(cost: ScryptCost): void {
  const ok =
    Number.isInteger(cost.log2N) && cost.log2N >= 1 && cost.log2N <= SCRYPT_LOG2N_MAX &&
    Number.isInteger(cost.r) && cost.r >= 1 && cost.r <= SCRYPT_R_MAX &&
    Number.isInteger(cost.p) && cost.p >= 1 && cost.p <= SCRYPT_P_MAX;
  if (!ok) throw new Error('scrypt cost parameters are out of range');
}

function deriveKey(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  checkCost(cost);
  const N = 2 ** cost.log2N;
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is below N = 2^17, so raise it with room.
  const maxmem = 256 * N * cost.r;
  return slots.run(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        // The async form runs on the libuv pool, off the event loop.
        scrypt(password.normalize('NFC'), salt, SCRYPT_KEY_BYTES, { N, r: cost.r, p: cost.p, maxmem }, (error, key) =>
          error ? reject(error) : resolve(key),
        );
      }),
  );
}

export async function hashPassword(password: string, cost: ScryptCost): Promise<PasswordHash> {
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const key = await deriveKey(password, salt, cost);
  return { scheme: 'scrypt', ...cost, saltB64: salt.toString('base64'), hashB64: key.toString('base64') };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (stored.scheme !== 'scrypt') throw new Error(`unknown password scheme ${String(stored.scheme)}`);
  const expected = Buffer.from(stored.hashB64, 'base64');
  const key = await deriveKey(password, Buffer.from(stored.saltB64, 'base64'), stored);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

const decoySalt = randomBytes(SCRYPT_SALT_BYTES);

/** Spends the time of one verification for a username that does not exist, so the reply time does not
 *  tell an attacker which usernames are registered. */
export async function spendDecoyVerification(password: string, cost: ScryptCost): Promise<void> {
  await deriveKey(password, decoySalt, cost);
}
