// The bank host's own errors: one base class, `HostError`, with a stable `code`, and one subclass per kind
// of failure a caller tells apart. Codes never change meaning; an operator sees them as `[CODE]` after the
// CLI's message, and the admin socket sends them as they are. Errors that cross the kiosk channel are
// protocol's `ProtocolError` (protocol/errors.ts), whose codes kiosks know; where an operator error means
// the same thing as a channel error it reuses that code, so an operator and a kiosk see the same word.
// `describe(error)` is the one way the host turns any error into a line of text, for logs and for the CLI.
import type { ErrorCode } from '../protocol/errors.js';

/** Every code the host raises itself, with what it means. Channel codes an operator command reuses are in
 *  protocol/errors.ts. */
export const HOST_ERROR_CODES = {
  // Operator commands (the admin socket, or the CLI on a stopped host)
  UNKNOWN_CUSTOMER: 'no customer has that username',
  BAD_USERNAME: 'the username is not 3-32 of a-z 0-9 . _ -, starting with a letter or digit',
  TOO_MANY_ACCOUNTS: 'the customer has the most accounts a customer may have',
  TOO_MANY_CARDS: 'the customer has the most cards a customer may have',
  UNKNOWN_DEPOSIT_HOLD: 'no deposit hold has that id',
  DEPOSIT_HOLD_RELEASED: 'the deposit hold was already released',
  UNKNOWN_EXCEPTION: 'no money exception has that id',
  CARD_AMBIGUOUS: 'the customer has more than one card ending in those four digits; name the card by its PAN',
  BAD_OPERATOR_NAME: 'an operator name is 2-32 of a-z 0-9 . _ -, starting with a letter or digit',
  OPERATOR_EXISTS: 'an operator with that name holds a token already (revoke it first)',
  UNKNOWN_OPERATOR: 'no operator with a live token has that name',
  TOO_MANY_OPERATORS: 'the host holds the most operator tokens it keeps',
  // The admin socket itself
  UNKNOWN_COMMAND: 'the admin command is not known',
  BAD_ARGUMENTS: 'the admin command’s arguments failed validation',
  BAD_REQUEST: 'an admin request is not { id, command, args }',
  ADMIN_SOCKET_UNAVAILABLE: 'nothing answers on the admin socket',
  ADMIN_SOCKET_DENIED: 'the admin socket is owner-only and this user may not open it',
  FAILED: 'the command failed for a reason that has no code of its own',
  // Device registry
  BAD_DEVICE_ID: 'a device id is 3-63 of a-z 0-9 and -, starting with a letter or digit',
  DEVICE_EXISTS: 'the device is already registered',
  DEVICE_UNKNOWN: 'no device is registered under that id',
  DEVICE_REVOKED: 'the device is revoked',
  KEY_VERSION_CONFLICT: "the new key was made for a key version that is not the device's next one (another rotation came first)",
  KEY_OUT_FAILED: 'the key file (--key-out) could not be written, so the host was not changed',
  EPP_MISMATCH: 'the PIN pad is not the one enrolled for the device (`device rotate-pin-key ID --replace-epp` after a PIN pad swap)',
  // Audit log
  AUDIT_INVALID: 'the audit log does not verify, so the command did nothing',
  AUDIT_CHAIN: 'the audit chain refuses new records (wrong keys, malformed head, exhausted sequence numbers)',
  AUDIT_DECRYPT_FAILED: 'an audit record does not decrypt under this key',
  // Ledger
  LEDGER_INVARIANT: 'a change would break a ledger invariant (a bug: nothing was written)',
  // Keys and the database
  KEY_ERROR: 'a key file is missing, malformed, not owner-only, or does not verify',
  DATABASE_LOCKED: 'another process has the database open',
  NOT_INITIALIZED: 'the data folder holds no bank-host database (`bank-host init` never ran there)',
  STORE_CONFIG: "host.json's store setting or the store connection string is not valid",
  // The command line
  USAGE: 'the command line is not one the CLI understands',
} as const;

export type HostErrorCode = keyof typeof HOST_ERROR_CODES;

/** Channel codes that operator commands reuse for the same meaning. */
export type ReusedChannelCode = Extract<
  ErrorCode,
  'USERNAME_TAKEN' | 'WEAK_PASSWORD' | 'UNKNOWN_ACCOUNT' | 'CARD_UNKNOWN' | 'UNKNOWN_AUTHORIZATION' | 'AUTHORIZATION_SETTLED' | 'BAD_AMOUNT' | 'BAD_FRAME' | 'TIMEOUT'
>;

export class HostError<C extends string = HostErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type AdminErrorCode =
  | ReusedChannelCode
  | Extract<HostErrorCode, 'UNKNOWN_CUSTOMER' | 'BAD_USERNAME' | 'TOO_MANY_ACCOUNTS' | 'TOO_MANY_CARDS' | 'CARD_AMBIGUOUS' | 'UNKNOWN_DEPOSIT_HOLD' | 'DEPOSIT_HOLD_RELEASED' | 'UNKNOWN_EXCEPTION' | 'BAD_OPERATOR_NAME' | 'OPERATOR_EXISTS' | 'UNKNOWN_OPERATOR' | 'TOO_MANY_OPERATORS' | 'DEVICE_UNKNOWN' | 'UNKNOWN_COMMAND' | 'BAD_ARGUMENTS' | 'BAD_REQUEST' | 'ADMIN_SOCKET_UNAVAILABLE' | 'ADMIN_SOCKET_DENIED'>;

/** An operator command refused, whether it ran in the host (through the admin socket) or on a stopped
 *  host's database. An operator function that throws one leaves a `failed` audit record. A code that
 *  crossed the admin socket comes back as the host sent it (a device or key error's code, say), so the
 *  field also takes codes this class does not raise itself. */
export class AdminError extends HostError<AdminErrorCode | (string & {})> {}

export class DeviceRegistryError extends HostError<'BAD_DEVICE_ID' | 'DEVICE_EXISTS' | 'DEVICE_UNKNOWN' | 'DEVICE_REVOKED' | 'KEY_VERSION_CONFLICT' | 'KEY_OUT_FAILED' | 'EPP_MISMATCH'> {}

export class AuditError extends HostError<'AUDIT_INVALID' | 'AUDIT_CHAIN' | 'AUDIT_DECRYPT_FAILED'> {}

/** A failure here is a bug, never a customer error: the change is abandoned before it reaches the disk. */
export class LedgerInvariantError extends HostError<'LEDGER_INVARIANT'> {
  constructor(message: string) {
    super('LEDGER_INVARIANT', `ledger invariant violated: ${message}`);
  }
}

/** Never put a key in the message. */
export class ConfigError extends HostError<'STORE_CONFIG'> {
  constructor(message: string) {
    super('STORE_CONFIG', message);
  }
}

export class KeyError extends HostError<'KEY_ERROR'> {
  constructor(message: string) {
    super('KEY_ERROR', message);
  }
}

export class DatabaseLockedError extends HostError<'DATABASE_LOCKED'> {
  constructor(readonly location: string) {
    super(
      'DATABASE_LOCKED',
      `the database at ${location} is in use by another process (is \`bank-host serve\` running? ` +
        'then pass --admin-socket so the command goes through it)',
    );
  }
}

/** The CLI prints these with the usage that helps, and exits 2. */
export class UsageError extends HostError<'USAGE'> {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** The stable code an error carries, if any: a HostError's or ProtocolError's, or a Node system error's
 *  (`ENOENT`, `EEXIST`). */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** One line for any error: its message with its code (`message [CODE]`); an error without a code is named
 *  by its class unless that is plain `Error`. Used by the logs and by the CLI's last word. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  if (code !== undefined) return `${error.message} [${code}]`;
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}
