// A deposit of an amount the customer states, credited by the host with one request (its request id makes
// a retry harmless), then the receipt question.
import { checkCents, requireScreen } from '../command-checks.js';
import { accountOrDefault, updateAccounts } from './accounts.js';
import type { FlowContext } from './context.js';
import { customerRequestOptions, runCustomerRequest } from './customer-request.js';
import type { ReceiptChoice } from './receipt-choice.js';

export async function deposit(ctx: FlowContext, receipts: ReceiptChoice, amountCents: number, accountId?: string): Promise<void> {
  requireScreen(ctx.session, 'deposit');
  checkCents(amountCents);
  const account = accountOrDefault(ctx.session, accountId);
  await runCustomerRequest(
    ctx,
    async (epoch) => {
      const result = await ctx.client().requestWithRetry('deposit', { accountId: account, amountCents }, customerRequestOptions(ctx));
      if (!ctx.visit.isCurrent(epoch)) return;
      updateAccounts(ctx.session, [result.account]);
      ctx.session.view = { kind: 'deposit', amountCents, account: result.account };
      receipts.offer('deposit', amountCents, { accountId: account, postingId: result.postingId, balanceAfterCents: result.account.balanceCents });
      ctx.session.go('receipt');
    },
    'deposit',
  );
}
