// The menu and what it shows without moving money: the balances of the customer's accounts, a page of an
// account's postings (filtered), and a page of the customer's own activity from the host's audit log.
import { KioskCommandError, requireScreen } from '../command-checks.js';
import type { ActivityRequest, HistoryRequest, MenuChoice } from '../ui-contract.js';
import { accountOrDefault, customerAccounts, updateAccounts } from './accounts.js';
import type { FlowContext } from './context.js';
import { customerRequestOptions, runCustomerRequest } from './customer-request.js';

/** Rows on one page of history or activity: what fits the 800×480 screen without scrolling. */
export const HISTORY_ROWS_PER_PAGE = 6;

export async function selectMenu(ctx: FlowContext, choice: MenuChoice | 'menu'): Promise<void> {
  const s = ctx.session;
  if (choice === 'menu') {
    requireScreen(s, 'balance', 'history', 'withdraw', 'deposit', 'transfer');
    s.view = undefined;
    s.go('menu');
    return;
  }
  requireScreen(s, 'menu');
  switch (choice) {
    case 'withdraw':
    case 'deposit':
    case 'transfer':
      s.go(choice);
      return;
    case 'balance':
      await runCustomerRequest(ctx, async (epoch) => {
        const accounts = await Promise.all(customerAccounts(s).map((a) => ctx.client().requestWithRetry('balance', { accountId: a.accountId }, customerRequestOptions(ctx))));
        if (!ctx.visit.isCurrent(epoch)) return;
        updateAccounts(s, accounts);
        s.view = { kind: 'balance', account: accounts[0]! };
        s.go('balance');
      });
      return;
    case 'history':
      await runCustomerRequest(ctx, async (epoch) => {
        const accountId = customerAccounts(s)[0]!.accountId;
        const page = await ctx.client().requestWithRetry('history', { accountId, limit: HISTORY_ROWS_PER_PAGE }, customerRequestOptions(ctx));
        if (!ctx.visit.isCurrent(epoch)) return;
        s.view = { kind: 'history', accountId, entries: page.entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
        s.go('history');
      });
      return;
    default:
      throw new KioskCommandError('BAD_ARGUMENT', 'unknown menu choice');
  }
}

export async function showHistory(ctx: FlowContext, filters: HistoryRequest): Promise<void> {
  requireScreen(ctx.session, 'history');
  const accountId = accountOrDefault(ctx.session, filters.accountId);
  await runCustomerRequest(ctx, async (epoch) => {
    const body = {
      accountId,
      limit: HISTORY_ROWS_PER_PAGE,
      ...(filters.sinceMs !== undefined ? { sinceMs: filters.sinceMs } : {}),
      ...(filters.untilMs !== undefined ? { untilMs: filters.untilMs } : {}),
      ...(filters.kinds ? { kinds: filters.kinds } : {}),
      ...(filters.cursor ? { cursor: filters.cursor } : {}),
    };
    const page = await ctx.client().requestWithRetry('history', body, customerRequestOptions(ctx));
    if (!ctx.visit.isCurrent(epoch)) return;
    ctx.session.view = { kind: 'history', accountId, entries: page.entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    ctx.session.go('history');
  });
}

/** The customer's own activity from the host's audit log: what they did at any kiosk, including what
 *  failed ("withdraw $100.00 failed - insufficient funds"), newest first. */
export async function showActivity(ctx: FlowContext, filters: ActivityRequest): Promise<void> {
  requireScreen(ctx.session, 'history');
  await runCustomerRequest(ctx, async (epoch) => {
    const body = {
      limit: HISTORY_ROWS_PER_PAGE,
      ...(filters.sinceMs !== undefined ? { sinceMs: filters.sinceMs } : {}),
      ...(filters.cursor ? { cursor: filters.cursor } : {}),
    };
    const page = await ctx.client().requestWithRetry('activity', body, customerRequestOptions(ctx));
    if (!ctx.visit.isCurrent(epoch)) return;
    ctx.session.view = { kind: 'activity', entries: page.entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    ctx.session.go('history');
  });
}
