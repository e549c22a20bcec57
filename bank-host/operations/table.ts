// Every operation the host serves over the channel. `ping` is answered by the dispatcher itself.
import { activityOperation } from '../audit/activity-operation.js';
import { bankingOperations } from './banking.js';
import type { OperationTable } from './context.js';

export const hostOperations: OperationTable = { ...bankingOperations, activity: activityOperation };
