// One host request for the customer (balance, history, activity, deposit, transfer) and what its failure
// means to them. A request the host never answered ends the visit: the host's session may be gone, and a
// deposit or transfer may have been applied, which the customer is told rather than shown a failure.
import { ProtocolError } from '../../../protocol/errors.js';
import { describe } from '../../common/errors.js';
import type { FlowContext } from './context.js';

/** Balance, history, deposit, transfer: retries (same request id) until this long has passed. */
export const CUSTOMER_REQUEST_DEADLINE_MS = 10_000;
export const CUSTOMER_REQUEST_TIMEOUT_MS = 5_000;

export function customerRequestOptions(ctx: FlowContext): { deadlineMs: number; timeoutMs: number } {
  const budgetMs = ctx.customerRequestDeadlineMs;
  return { deadlineMs: ctx.now() + budgetMs, timeoutMs: Math.min(CUSTOMER_REQUEST_TIMEOUT_MS, budgetMs) };
}

/** Runs `work` as one customer operation. A refusal goes back to the menu (or to the deposit or transfer
 *  screen, `screenOnError`) with its code; no answer, or a host session that is gone, ends the visit. */
export async function runCustomerRequest(ctx: FlowContext, work: (epoch: number) => Promise<void>, screenOnError?: 'deposit' | 'transfer'): Promise<void> {
  const { session, visit, log } = ctx;
  const back = screenOnError ?? 'menu';
  await visit.operate(async (epoch) => {
    try {
      await work(epoch);
    } catch (error) {
      if (!visit.isCurrent(epoch)) return;
      if (error instanceof ProtocolError && (error.retryable || error.code === 'NOT_SIGNED_IN' || error.code === 'SESSION_EXPIRED')) {
        // A deposit or transfer the host never answered may have been applied: say so rather than imply it
        // failed. Its request id makes any later retry harmless, and the customer's history shows the truth.
        await visit.end({ code: error.retryable ? (screenOnError ? 'UNCONFIRMED' : 'HOST_UNAVAILABLE') : error.code });
      } else {
        session.go(back, { code: error instanceof ProtocolError ? error.code : 'INTERNAL' });
        if (!(error instanceof ProtocolError)) log.error('customer request failed', { error: describe(error) });
      }
    }
  });
}
