// Stable error codes of the channel. A code never changes meaning; new codes are added at the end of a
// group. Every error response carries one of these, a human-readable message without secrets, and
// `retryable`: whether sending the same request again (same request id) may succeed.

export const ERROR_CODES = {
  // Envelope and framing
  BAD_FRAME: 'the frame is not valid UTF-8 JSON or exceeds the maximum frame size',
  BAD_ENVELOPE: 'the envelope is missing a field or has one of the wrong type',
  UNSUPPORTED_VERSION: 'the protocol version is not supported',
  UNKNOWN_TYPE: 'the message type is not known',
  BAD_BODY: 'the message body failed validation',
  STALE_TIMESTAMP: 'the timestamp is more than the allowed skew from the host clock',
  REQUEST_ID_REUSED: 'the request id was used before with a different body',
  TOO_MANY_PENDING: 'too many requests are pending on this connection',
  TOO_MANY_CONNECTIONS: 'the device already has the most connections it may open',
  SHUTTING_DOWN: 'the host is shutting down; retry the same request later',
  INTERNAL: 'the host failed to process the request; nothing was applied',
  TIMEOUT: 'no response arrived in time (client side)',
  DISCONNECTED: 'the connection closed before a response arrived (client side)',
  // Sessions and authentication
  NOT_SIGNED_IN: 'the operation needs a signed-in customer session',
  SESSION_EXPIRED: 'the session ended after inactivity',
  ALREADY_SIGNED_IN: 'a customer is already signed in on this connection',
  BAD_CREDENTIALS: 'the username or password is wrong',
  LOCKED_OUT: 'too many failed sign-ins; try again later',
  REGISTRATION_DISABLED: 'this host does not allow registration from kiosks',
  USERNAME_TAKEN: 'the username is already registered',
  WEAK_PASSWORD: 'the password does not meet the policy',
  CARD_UNKNOWN: 'the card is not known or not valid',
  CARD_BLOCKED: 'the card is blocked; the customer must contact the bank',
  CARD_EXPIRED: 'the card has expired',
  WRONG_PIN: 'the PIN is wrong',
  BAD_PIN_BLOCK: 'the PIN block could not be decoded',
  NO_PIN_KEY: 'the device has no PIN encryption key (an operator gives one with `device rotate-pin-key`)',
  EPP_UNTRUSTED: "the PIN pad's certificate is malformed or not signed by a vendor CA the host trusts",
  EPP_MISMATCH: 'the PIN pad is not the one enrolled for this device',
  ROLE_NOT_ALLOWED: "the signed-in card's role may not do this: a technician's card does no customer transactions, a customer's card no supervisor operations",
  WRONG_PIN_LAST_TRY: 'the PIN is wrong; one try is left before the card is blocked',
  PIN_MISMATCH: 'the new PIN and its confirmation differ',
  NOT_CARD_SESSION: 'the operation needs a session signed in with this card',
  // Money
  BAD_AMOUNT: 'the amount is not a positive whole number of cents within limits',
  UNKNOWN_ACCOUNT: 'the account does not exist or does not belong to the customer',
  INSUFFICIENT_FUNDS: 'the available balance is too low',
  LIMIT_EXCEEDED: 'the amount exceeds the per-withdrawal maximum',
  DAILY_LIMIT_EXCEEDED: 'the amount exceeds the daily withdrawal limit of the customer or of the card',
  NOT_DISPENSABLE: 'the amount cannot be paid in the configured notes',
  UNKNOWN_AUTHORIZATION: 'the withdrawal authorization does not exist for this device',
  AUTHORIZATION_SETTLED: 'the withdrawal authorization was already completed or reversed differently',
  SAME_ACCOUNT: 'a transfer needs two different accounts',
  DEPOSIT_LIMIT_EXCEEDED: "the customer's deposits today have reached the daily cap",
  DEPOSITS_UNAVAILABLE: 'this kiosk takes no deposits (it has reported no note acceptor)',
  UNKNOWN_DEPOSIT: 'the deposit does not exist for this device',
  DEPOSIT_SETTLED: 'the deposit was already committed with other notes',
  BAD_NOTES: 'the notes are not denominations this kiosk accepts, or their counts are out of range',
  SETTLED_BY_OPERATOR: 'an operator settled the withdrawal before the kiosk did; the difference is recorded for the bank',
  // Replenishment
  UNKNOWN_REPLENISHMENT: 'the replenishment does not exist for this device, or is closed',
  REPLENISHMENT_STEP_DONE: 'that step of the replenishment was already done with other counts',
  REPLENISHMENT_ORDER: 'the cassettes must be unloaded before new ones are loaded',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The one error type that crosses the channel. `message` must never contain a secret. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
