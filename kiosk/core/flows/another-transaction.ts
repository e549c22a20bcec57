// "Another transaction?": the question after every transaction, as a real ATM asks it. Yes goes back to
// the menu in the same session (the host session, its inactivity rules and the customer's limits as
// they now stand: each flow has already brought the limits and balances up to date); no ends the visit.
import { requireScreen } from '../command-checks.js';
import type { FlowContext } from './context.js';

export async function anotherTransaction(ctx: FlowContext, wanted: boolean): Promise<void> {
  const { session, visit } = ctx;
  requireScreen(session, 'another-transaction');
  if (!wanted) {
    await visit.end();
    return;
  }
  session.view = undefined;
  session.go('menu');
}
