import type { AccountSummary, Language } from '../../preload/api.js';
import { formatMoney, type Strings } from '../i18n.js';

/** Which of the customer's accounts: toggle buttons, shown only when there is a choice to make. */
export function AccountPicker({ accounts, selected, choose, t, language, label = t.account, name = 'account' }: {
  accounts: readonly AccountSummary[];
  selected: string | undefined;
  choose: (accountId: string) => void;
  t: Strings;
  language: Language;
  label?: string;
  name?: string;
}) {
  if (accounts.length < 2) return null;
  return (
    <div class="toggle-group" role="group" aria-label={label}>
      <span class="toggle-label" aria-hidden="true">
        {label}
      </span>
      {accounts.map((a) => (
        <button type="button" key={a.accountId} aria-pressed={a.accountId === selected} data-pick={`${name}-${a.kind}`} onClick={() => choose(a.accountId)}>
          {t.accountKind(a.kind)} · {formatMoney(a.availableCents, language, a.currency)}
        </button>
      ))}
    </div>
  );
}
