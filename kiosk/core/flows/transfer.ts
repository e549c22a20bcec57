// A transfer between two of the customer's own accounts, one host request, then the receipt question.
import { checkCents, requireScreen } from '../command-checks.js';
import type { TransferRequest } from '../ui-contract.js';
import { accountOrDefault, updateAccounts } from './accounts.js';
import type { FlowContext } from './context.js';
import { customerRequestOptions, runCustomerRequest } from './customer-request.js';
import type { ReceiptChoice } from './receipt-choice.js';

export async function transfer(ctx: FlowContext, receipts: ReceiptChoice, request: TransferRequest): Promise<void> {
  requireScreen(ctx.session, 'transfer');
  checkCents(request.amountCents);
  const from = accountOrDefault(ctx.session, request.fromAccountId);
  const to = accountOrDefault(ctx.session, request.toAccountId);
  await runCustomerRequest(
    ctx,
    async (epoch) => {
      const result = await ctx.client().requestWithRetry('transfer', { fromAccountId: from, toAccountId: to, amountCents: request.amountCents }, customerRequestOptions(ctx));
      if (!ctx.visit.isCurrent(epoch)) return;
      updateAccounts(ctx.session, [result.from, result.to]);
      ctx.session.view = { kind: 'transfer', amountCents: request.amountCents, from: result.from, to: result.to };
      receipts.offer('transfer', request.amountCents, { accountId: from, postingId: result.postingId, balanceAfterCents: result.from.balanceCents });
      ctx.session.go('receipt');
    },
    'transfer',
  );
}
