import type { AccountSummary, Language } from '../../preload/api.js';
import { accountLabel, formatMoney, type Strings } from '../i18n.js';

/** Which of the customer's accounts: toggle buttons (the account, and what is available in it), shown
 *  only when there is a choice to make. The layouts leave room for three accounts. */
export function AccountPicker({ accounts, selected, choose, t, language, label = t.account, name = 'account', showAvailable = true }: {
  accounts: readonly AccountSummary[];
  selected: string | undefined;
  choose: (accountId: string) => void;
  t: Strings;
  language: Language;
  label?: string;
  name?: string;
  showAvailable?: boolean;
}) {
  if (accounts.length < 2) return null;
  return (
    <div class="picker" role="group" aria-label={label}>
      <span class="picker-label" aria-hidden="true">
        {label}
      </span>
      <span class="toggles">
        {accounts.map((a, i) => (
          <button type="button" class="toggle account" key={a.accountId} aria-pressed={a.accountId === selected} data-pick={pickName(name, accounts, i)} onClick={() => choose(a.accountId)}>
            <span class="account-name">{accountLabel(t, a, accounts)}</span>
            {showAvailable && <span class="account-money">{formatMoney(a.availableCents, language, a.currency)}</span>}
          </button>
        ))}
      </span>
    </div>
  );
}

/** `from-savings`, and `from-savings-2` for a second savings account: a name a test or a person can use. */
function pickName(name: string, accounts: readonly AccountSummary[], index: number): string {
  const kind = accounts[index]!.kind;
  const nth = accounts.slice(0, index + 1).filter((a) => a.kind === kind).length;
  return nth === 1 ? `${name}-${kind}` : `${name}-${kind}-${nth}`;
}
