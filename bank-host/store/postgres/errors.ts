// What can go wrong between the store and PostgreSQL, sorted by what the caller should do about it. A
// request whose unit of work fails with a retryable error was not applied (or, for STORE_OUTCOME_UNKNOWN,
// may have been: the retry must carry the same request id, which the idempotency record makes safe), so the
// host answers it as retryable and the kiosk tries again, on this host or another.
import pg from 'pg';
import { HostError } from '../../errors.js';

export const POSTGRES_STORE_ERROR_CODES = {
  STORE_UNAVAILABLE: 'no primary could be reached, or the connection to it was lost before a commit was sent; nothing was applied',
  STORE_OUTCOME_UNKNOWN: 'the connection was lost while a commit was in flight: the change may or may not be applied; retry with the same request id',
  STORE_BUSY: 'a bound was reached (waiting for a connection, for a lock, or idle inside a transaction); nothing was applied',
  STORE_CONFLICT: 'PostgreSQL aborted the transaction to break a deadlock or a serialization conflict; nothing was applied',
  STORE_REFUSED: 'PostgreSQL refused a statement (a bug or a damaged schema): retrying does not help',
  STORE_SCHEMA: 'the database is not one this store can use (encoding, collation, schema version, no synchronous standby)',
  STORE_CLOSED: 'the store is closed',
} as const;

export type PostgresStoreErrorCode = keyof typeof POSTGRES_STORE_ERROR_CODES;

const RETRYABLE: ReadonlySet<PostgresStoreErrorCode> = new Set(['STORE_UNAVAILABLE', 'STORE_OUTCOME_UNKNOWN', 'STORE_BUSY', 'STORE_CONFLICT']);

export class PostgresStoreError extends HostError<PostgresStoreErrorCode> {
  /** The same request may be tried again (with the same request id). */
  readonly retryable: boolean;

  constructor(code: PostgresStoreErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message);
    this.retryable = RETRYABLE.has(code);
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isRetryableStoreError(error: unknown): error is PostgresStoreError {
  return error instanceof PostgresStoreError && error.retryable;
}

/** Where a failure happened: a lost connection during a commit leaves its outcome unknown; anywhere else
 *  the transaction is certainly not applied (PostgreSQL aborts a transaction whose connection drops). */
export type FailurePhase = 'connect' | 'statement' | 'commit';

/** SQLSTATEs that mean "not applied, try again", by what to call them. */
function codeForSqlState(state: string): PostgresStoreErrorCode | undefined {
  if (state === '40001' || state === '40P01') return 'STORE_CONFLICT';
  // lock_not_available (lock_timeout), query_canceled, idle_in_transaction_session_timeout, too many
  // connections and other insufficient resources.
  if (state === '55P03' || state === '57014' || state === '25P03' || state.startsWith('53')) return 'STORE_BUSY';
  // read_only_sql_transaction: the node was demoted under us; admin/crash shutdown, cannot connect now (a
  // node starting or in recovery), connection exceptions.
  if (state === '25006' || state === '57P01' || state === '57P02' || state === '57P03' || state.startsWith('08')) return 'STORE_UNAVAILABLE';
  return undefined;
}

/** PostgreSQL answered with an error (the statement failed; the connection is fine). */
export function hasSqlState(error: unknown): boolean {
  return error instanceof pg.DatabaseError && typeof error.code === 'string';
}

/** An error that carries no SQLSTATE but says the connection itself failed (refused, reset, closed, timed
 *  out): the socket-level errors Node raises and the messages `pg` uses for them. */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof PostgresStoreError) return error.code === 'STORE_UNAVAILABLE' || error.code === 'STORE_OUTCOME_UNKNOWN';
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '25006';
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout expired|Query read timeout|Client was closed|not queryable|Connection closed/i.test(message);
}

/** Turns anything `pg` or the socket threw into a PostgresStoreError with the right code; `what` says
 *  what was being done, for the message. */
export function storeErrorFrom(error: unknown, phase: FailurePhase, what: string): PostgresStoreError {
  if (error instanceof PostgresStoreError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof pg.DatabaseError && error.code !== undefined) {
    const code = codeForSqlState(error.code);
    // An error answer to COMMIT means the transaction was rolled back: not applied, whatever the phase.
    if (code !== undefined) return new PostgresStoreError(code, `${what}: ${detail} [SQLSTATE ${error.code}]`, { cause: error });
    return new PostgresStoreError('STORE_REFUSED', `${what}: ${detail} [SQLSTATE ${error.code}]`, { cause: error });
  }
  if (isConnectionFailure(error)) {
    if (phase === 'commit') {
      return new PostgresStoreError('STORE_OUTCOME_UNKNOWN', `${what}: the connection failed while the commit was in flight (${detail}); it may or may not be applied`, { cause: error });
    }
    return new PostgresStoreError('STORE_UNAVAILABLE', `${what}: ${detail}`, { cause: error });
  }
  return new PostgresStoreError('STORE_REFUSED', `${what}: ${detail}`, { cause: error });
}
