// The one error type of operator commands, whether they run in the host (through the admin socket) or
// directly on a stopped host's database.
import type { ErrorCode } from '../../protocol/errors.js';

/** Codes are stable; where a channel error code already says the same thing it is reused, so an operator
 *  and a kiosk see the same word. */
export type AdminErrorCode =
  | Extract<ErrorCode, 'USERNAME_TAKEN' | 'WEAK_PASSWORD' | 'UNKNOWN_ACCOUNT' | 'CARD_UNKNOWN' | 'UNKNOWN_AUTHORIZATION' | 'AUTHORIZATION_SETTLED' | 'BAD_AMOUNT'>
  | 'UNKNOWN_CUSTOMER'
  | 'BAD_USERNAME'
  | 'TOO_MANY_ACCOUNTS'
  | 'TOO_MANY_CARDS'
  // The admin channel itself.
  | 'UNKNOWN_COMMAND'
  | 'BAD_ARGUMENTS'
  | 'BAD_REQUEST'
  | 'BAD_FRAME'
  | 'TIMEOUT'
  | 'ADMIN_SOCKET_UNAVAILABLE'
  | 'ADMIN_SOCKET_DENIED';

export class AdminError extends Error {
  constructor(
    // Codes that crossed the admin socket come back as the host sent them (for example a device or key
    // error's code), so the field is a string; those this layer raises itself are listed above.
    readonly code: AdminErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

