import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ActivityEntry, HistoryEntry, PostingKind } from '../../preload/api.js';
import { send, type ScreenProps } from '../atm.js';
import { AccountPicker } from '../components/account-picker.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { accountLabel, formatDateTime, formatMoney, noticeText, type Strings } from '../i18n.js';

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
  const [filtering, setFiltering] = useState(false);
  const accounts = snap.customer?.accounts ?? [];
  const transactions = snap.view?.kind === 'history' ? snap.view : undefined;
  const activity = snap.view?.kind === 'activity' ? snap.view : undefined;
  const accountId = transactions?.accountId ?? accounts[0]?.accountId;
  const account = accounts.find((a) => a.accountId === accountId);
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
  const first = [undefined];
  const summary = [...(mode === 'transactions' ? [t.kindFilters[kind]] : []), t.periodFilters[period], ...(mode === 'transactions' && account && accounts.length > 1 ? [accountLabel(t, account, accounts)] : [])].join(' · ');
  if (filtering) {
    return (
      <FiltersSheet
        {...{ t, snap, ui, accountId }}
        onCancel={() => setFiltering(false)}
        onApply={(chosen, chosenAccountId) => {
          setFiltering(false);
          load({ ...chosen, trail: first }, chosenAccountId);
        }}
      />
    );
  }
  return (
    <section class="screen history">
      <div class="title-row">
        <ScreenTitle text={t.historyTitle} step="history" />
        <Toggles label={t.historyTitle} options={t.historyModes} selected={mode} choose={(m) => load({ ...ui, mode: m, trail: first })} attribute="data-mode" />
        <button type="button" class="push-right" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
          <Icon name="back" />
          {t.backToMenu}
        </button>
      </div>
      <div class="title-row">
        <button type="button" data-action="filters" onClick={() => setFiltering(true)}>
          <Icon name="filter" />
          {t.filters}
        </button>
        <p class="hint filter-summary" data-testid="filter-summary">
          {summary}
        </p>
        <span class="pager push-right">
          <button type="button" data-action="previous-page" aria-label={t.previousPage} disabled={trail.length <= 1} onClick={() => load({ ...ui, trail: trail.slice(0, -1) })}>
            <Icon name="left" />
          </button>
          <span class="page-number">{t.page(trail.length)}</span>
          <button type="button" data-action="next-page" aria-label={t.nextPage} disabled={!nextCursor} onClick={() => nextCursor && load({ ...ui, trail: [...trail, nextCursor] })}>
            <Icon name="right" />
          </button>
        </span>
      </div>
      <NoticeBanner snap={snap} t={t} />
      {mode === 'transactions' ? <TransactionsTable entries={transactions?.entries ?? []} t={t} snap={snap} currency={account?.currency} page={trail.length} /> : <ActivityTable entries={activity?.entries ?? []} t={t} snap={snap} page={trail.length} />}
    </section>
  );
}

function Toggles<K extends string>({ label, options, selected, choose, attribute }: { label: string; options: Record<K, string>; selected: K; choose: (k: K) => void; attribute: string }) {
  return (
    <div class="toggles" role="group" aria-label={label}>
      {(Object.keys(options) as K[]).map((key) => (
        <button type="button" class="toggle" key={key} aria-pressed={key === selected} {...{ [attribute]: key }} onClick={() => choose(key)}>
          {options[key]}
        </button>
      ))}
    </div>
  );
}

/** The filters on a sheet of their own: on a 480-pixel-high screen, a full page of six rows leaves no
 *  room for eleven toggle buttons above it. Nothing loads until "Show". */
function FiltersSheet({ t, snap, ui, accountId, onCancel, onApply }: Pick<ScreenProps, 't' | 'snap'> & { ui: HistoryUi; accountId: string | undefined; onCancel: () => void; onApply: (ui: HistoryUi, accountId: string | undefined) => void }) {
  const [chosen, setChosen] = useState(ui);
  const [chosenAccountId, setChosenAccountId] = useState(accountId);
  const accounts = snap.customer?.accounts ?? [];
  const group = (label: string, body: ComponentChildren) => (
    <div class="picker">
      <span class="picker-label" aria-hidden="true">
        {label}
      </span>
      {body}
    </div>
  );
  return (
    <section class="screen filters">
      <ScreenTitle text={t.filters} step="filters" />
      {chosen.mode === 'transactions' && group(t.filterKind, <Toggles label={t.filterKind} options={t.kindFilters} selected={chosen.kind} choose={(kind) => setChosen({ ...chosen, kind })} attribute="data-filter" />)}
      {group(t.filterPeriod, <Toggles label={t.filterPeriod} options={t.periodFilters} selected={chosen.period} choose={(period) => setChosen({ ...chosen, period })} attribute="data-filter" />)}
      {chosen.mode === 'transactions' && <AccountPicker accounts={accounts} selected={chosenAccountId} choose={setChosenAccountId} t={t} language={snap.language} showAvailable={false} />}
      <div class="actions end push-down">
        <button type="button" data-action="cancel-filters" onClick={onCancel}>
          <Icon name="back" />
          {t.back}
        </button>
        <button type="button" class="primary" data-action="apply-filters" onClick={() => onApply(chosen, chosenAccountId)}>
          <Icon name="check" />
          {t.showResults}
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
          <th scope="col" class="when">{t.historyDate}</th>
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
            <td class="when">{formatDateTime(e.timestampMs, snap.language)}</td>
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
          <th scope="col" class="when">{t.historyDate}</th>
          <th scope="col">{t.activityWhat}</th>
          <th scope="col">{t.activityResult}</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.seq} data-action={e.action} data-outcome={e.outcome}>
            <td class="when">{formatDateTime(e.timestampMs, snap.language)}</td>
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
