import type { ActivityEntry, HistoryEntry, PostingKind } from '../../preload/api.js';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatDateTime, formatMoney, noticeText, type Strings } from '../i18n.js';

const DAY_MS = 86_400_000;
type Mode = 'transactions' | 'activity';
type KindFilter = 'all' | 'deposit' | 'withdrawal' | 'transfer';
type PeriodFilter = 'all' | 'week' | 'month';
const KINDS: Record<KindFilter, PostingKind[] | undefined> = { all: undefined, deposit: ['deposit'], withdrawal: ['withdrawal'], transfer: ['transfer-in', 'transfer-out'] };
const PERIOD_DAYS: Record<PeriodFilter, number | undefined> = { all: undefined, week: 7, month: 30 };

/** The filters and pages seen; kept by the app because the screen unmounts while a page loads. */
export interface HistoryUi {
  readonly mode: Mode;
  readonly kind: KindFilter;
  readonly period: PeriodFilter;
  /** The cursor that loaded each page up to the one shown (undefined: the first page). */
  readonly trail: readonly (string | undefined)[];
}

export const HISTORY_UI_START: HistoryUi = { mode: 'transactions', kind: 'all', period: 'all', trail: [undefined] };

/** Two views of the customer's own past, one page at a time from the host: their transactions (postings
 *  with the running balance) and their activity (the bank's audit records of what they did, failures
 *  included). The host pages forward only, so "previous" replays the cursor that led to the page before. */
export function HistoryScreen({ snap, t, atm, expectWork, ui, setUi }: ScreenProps & { ui: HistoryUi; setUi: (ui: HistoryUi) => void }) {
  const { mode, kind, period, trail } = ui;
  const accounts = snap.customer?.accounts ?? [];
  const transactions = snap.view?.kind === 'history' ? snap.view : undefined;
  const activity = snap.view?.kind === 'activity' ? snap.view : undefined;
  const accountId = transactions?.accountId ?? accounts[0]?.accountId;
  const currency = accounts.find((a) => a.accountId === accountId)?.currency;
  const nextCursor = mode === 'activity' ? activity?.nextCursor : transactions?.nextCursor;

  const load = (next: HistoryUi, nextAccountId = accountId) => {
    setUi(next);
    const days = PERIOD_DAYS[next.period];
    const sinceMs = days !== undefined ? { sinceMs: Date.now() - days * DAY_MS } : {};
    const cursor = next.trail[next.trail.length - 1];
    const at = cursor ? { cursor } : {};
    expectWork('request');
    if (next.mode === 'activity') {
      send(atm.activity({ ...sinceMs, ...at }));
      return;
    }
    const kinds = KINDS[next.kind];
    send(atm.history({ ...(nextAccountId ? { accountId: nextAccountId } : {}), ...(kinds ? { kinds } : {}), ...sinceMs, ...at }));
  };
  const toggles = <K extends string>(label: string, options: Record<K, string>, selected: K, choose: (k: K) => void, attribute: string) => (
    <div class="toggle-group compact" role="group" aria-label={label}>
      {(Object.keys(options) as K[]).map((key) => (
        <button type="button" key={key} aria-pressed={key === selected} {...{ [attribute]: key }} onClick={() => choose(key)}>
          {options[key]}
        </button>
      ))}
    </div>
  );
  const first = [undefined];
  return (
    <section class="history">
      <div class="title-row">
        <ScreenTitle text={t.historyTitle} />
        {toggles(t.historyTitle, t.historyModes, mode, (m) => load({ ...ui, mode: m, trail: first }), 'data-mode')}
      </div>
      <NoticeBanner snap={snap} t={t} />
      <div class="filter-row">
        {mode === 'transactions' && toggles(t.filters, t.kindFilters, kind, (k) => load({ ...ui, kind: k, trail: first }), 'data-filter')}
        {toggles(t.filters, t.periodFilters, period, (p) => load({ ...ui, period: p, trail: first }), 'data-filter')}
      </div>
      {mode === 'transactions' && (
        <AccountPicker accounts={accounts} selected={accountId} choose={(id) => load({ ...ui, trail: first }, id)} t={t} language={snap.language} />
      )}
      {mode === 'transactions' ? <TransactionsTable entries={transactions?.entries ?? []} t={t} snap={snap} currency={currency} page={trail.length} /> : <ActivityTable entries={activity?.entries ?? []} t={t} snap={snap} page={trail.length} />}
      <div class="actions">
        <button type="button" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
          {t.backToMenu}
        </button>
        <button type="button" data-action="previous-page" disabled={trail.length <= 1} onClick={() => load({ ...ui, trail: trail.slice(0, -1) })}>
          {t.previousPage}
        </button>
        <span class="page-number">{t.page(trail.length)}</span>
        <button type="button" data-action="next-page" disabled={!nextCursor} onClick={() => nextCursor && load({ ...ui, trail: [...trail, nextCursor] })}>
          {t.nextPage}
        </button>
      </div>
    </section>
  );
}

type TableProps = Pick<ScreenProps, 'snap' | 't'> & { page: number };

function TransactionsTable({ entries, t, snap, currency, page }: TableProps & { entries: readonly HistoryEntry[]; currency: string | undefined }) {
  if (entries.length === 0) return <p class="lead">{t.historyEmpty}</p>;
  return (
    <table class="history-table">
      <caption class="sr-only">
        {t.historyModes.transactions}, {t.page(page)}
      </caption>
      <thead>
        <tr>
          <th scope="col">{t.historyDate}</th>
          <th scope="col">{t.historyType}</th>
          <th scope="col" class="num">
            {t.historyAmount}
          </th>
          <th scope="col" class="num">
            {t.historyBalance}
          </th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.postingId} data-kind={e.kind}>
            <td>{formatDateTime(e.timestampMs, snap.language)}</td>
            <td>{t.kindNames[e.kind]}</td>
            <td class="num">{formatMoney(e.amountCents, snap.language, currency)}</td>
            <td class="num">{formatMoney(e.balanceAfterCents, snap.language, currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ActivityTable({ entries, t, snap, page }: TableProps & { entries: readonly ActivityEntry[] }) {
  if (entries.length === 0) return <p class="lead">{t.activityEmpty}</p>;
  return (
    <table class="history-table">
      <caption class="sr-only">
        {t.historyModes.activity}, {t.page(page)}
      </caption>
      <thead>
        <tr>
          <th scope="col">{t.historyDate}</th>
          <th scope="col">{t.activityWhat}</th>
          <th scope="col">{t.activityResult}</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.seq} data-action={e.action} data-outcome={e.outcome}>
            <td>{formatDateTime(e.timestampMs, snap.language)}</td>
            <td>
              {actionName(t, e.action)}
              {e.amountCents !== undefined && ` ${formatMoney(e.amountCents, snap.language)}`}
            </td>
            <td>{outcomeText(t, e)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function actionName(t: Strings, action: string): string {
  return Object.hasOwn(t.actionNames, action) ? t.actionNames[action]! : t.actionOther;
}

/** "Failed: There is not enough money in this account." The host's reason is a stable code the notices
 *  already translate; an unknown one shows the outcome alone rather than a raw code. */
function outcomeText(t: Strings, entry: ActivityEntry): string {
  const outcome = t.outcomes[entry.outcome];
  if (entry.outcome === 'ok' || entry.reason === undefined || !Object.hasOwn(t.notices, entry.reason)) return outcome;
  return `${outcome}: ${noticeText(t, entry.reason)}`;
}
