// The console's sign-in sessions: made by a form POST of an operator token, carried by an HttpOnly,
// SameSite=Strict cookie holding 32 random bytes. Kept in memory only (a host restart signs everyone
// out), keyed by the cookie's SHA-256, bounded in number and in time (`consoleSessionMaxMs` from sign-in,
// `consoleSessionIdleMs` without a request). A session is good only while the token it was made with is
// its operator's live one: revoking (or replacing) the token ends it at the next request, and at once
// when the host learns of the revocation.
import { createHash, randomBytes } from 'node:crypto';
import type { OperatorIdentity } from '../fleet/operator-tokens.js';

export const SESSIONS_MAX = 1_024;
const SESSION_ID_BYTES = 32;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface ConsoleSession {
  readonly operator: OperatorIdentity;
  readonly createdMs: number;
  lastSeenMs: number;
  readonly expiresMs: number;
}

const keyOf = (sessionId: string) => createHash('sha256').update(sessionId, 'utf8').digest('hex');

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    private readonly limits: { readonly maxMs: number; readonly idleMs: number },
    private readonly now: () => number,
  ) {}

  /** A new session for `operator`; returns the cookie value, which the host keeps only as a hash. */
  create(operator: OperatorIdentity): { sessionId: string; session: ConsoleSession } {
    // Full: the oldest session goes (Map keeps insertion order).
    if (this.sessions.size >= SESSIONS_MAX) this.sessions.delete(this.sessions.keys().next().value!);
    const nowMs = this.now();
    const sessionId = randomBytes(SESSION_ID_BYTES).toString('base64url');
    const session: ConsoleSession = { operator, createdMs: nowMs, lastSeenMs: nowMs, expiresMs: nowMs + this.limits.maxMs };
    this.sessions.set(keyOf(sessionId), session);
    return { sessionId, session };
  }

  /** The live session of a cookie value, its idle clock reset; undefined (and forgotten) when it has
   *  expired or its token is no longer current. */
  use(sessionId: string, isCurrent: (operator: OperatorIdentity) => boolean): ConsoleSession | undefined {
    if (!SESSION_ID_PATTERN.test(sessionId)) return undefined;
    const key = keyOf(sessionId);
    const session = this.sessions.get(key);
    if (session === undefined) return undefined;
    const nowMs = this.now();
    if (nowMs >= session.expiresMs || nowMs - session.lastSeenMs >= this.limits.idleMs || !isCurrent(session.operator)) {
      this.sessions.delete(key);
      return undefined;
    }
    session.lastSeenMs = nowMs;
    return session;
  }

  end(sessionId: string): void {
    if (SESSION_ID_PATTERN.test(sessionId)) this.sessions.delete(keyOf(sessionId));
  }

  /** Ends every session of an operator (its token was revoked). */
  endAllOf(name: string): number {
    let ended = 0;
    for (const [key, session] of this.sessions) {
      if (session.operator.name !== name) continue;
      this.sessions.delete(key);
      ended++;
    }
    return ended;
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** Failed sign-ins per remote address: past LOGIN_FAILURES_MAX in a window the address is refused until
 *  the window ends. Tokens are 256 random bits, so this bounds the work and the audit records a guesser
 *  can cause, not the odds of a guess. */
export const LOGIN_FAILURES_MAX = 10;
export const LOGIN_WINDOW_MS = 60_000;
const ADDRESSES_TRACKED_MAX = 4_096;

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; sinceMs: number }>();

  constructor(private readonly now: () => number) {}

  refused(address: string): boolean {
    const entry = this.failures.get(address);
    if (entry === undefined) return false;
    if (this.now() - entry.sinceMs >= LOGIN_WINDOW_MS) {
      this.failures.delete(address);
      return false;
    }
    return entry.count >= LOGIN_FAILURES_MAX;
  }

  failed(address: string): void {
    const entry = this.failures.get(address);
    if (entry !== undefined) {
      entry.count++;
      return;
    }
    if (this.failures.size >= ADDRESSES_TRACKED_MAX) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { count: 1, sinceMs: this.now() });
  }
}
