// Every operation the host serves over the channel. `ping` is answered by the dispatcher itself.
import { activityOperation } from './activity.js';
import { createBankingOperations, type BankingOptions } from './banking.js';
import type { OperationTable } from './context.js';

/** The full table; `options` lets tests hash passwords at a cheap scrypt cost. */
export function createHostOperations(options: BankingOptions = {}): OperationTable {
  return { ...createBankingOperations(options), activity: activityOperation };
}

export const hostOperations: OperationTable = createHostOperations();
