// The bank host's customer operations, as handlers for the dispatcher: sign-in and registration
// (sign-in.ts), money (money.ts), deposits of counted notes (deposits.ts) and kiosk status reports
// (kiosk-status.ts). Each handler validates what the schema cannot (amount rules, ownership), takes the
// locks of what it reads and writes, and ends with exactly one `ctx.finish` carrying its change and one
// audit event named after the message type, failures included (run.ts).
import { SCRYPT_COST_PRODUCTION, type ScryptCost } from '../customers/passwords.js';
import type { OperationTable } from './context.js';
import { depositOperations } from './deposits.js';
import { kioskStatusOperations } from './kiosk-status.js';
import { moneyOperations } from './money.js';
import { pinKeyOperations } from './pin-key.js';
import { createSignInOperations } from './sign-in.js';

export interface BankingOptions {
  /** Tests pass a cheap cost; production uses SCRYPT_COST_PRODUCTION. Existing hashes verify with the
   *  cost stored in them, whatever this says. */
  readonly scryptCost?: ScryptCost;
}

export function createBankingOperations(options: BankingOptions = {}): OperationTable {
  return {
    ...createSignInOperations(options.scryptCost ?? SCRYPT_COST_PRODUCTION),
    ...moneyOperations,
    ...depositOperations,
    ...kioskStatusOperations,
    ...pinKeyOperations,
  };
}

export const bankingOperations: OperationTable = createBankingOperations();
