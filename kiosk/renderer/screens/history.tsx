import type { HistoryRequest, PostingKind } from '../../preload/api.js';
import { send, type ScreenProps } from '../atm.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatDateTime, formatMoney } from '../i18n.js';

const DAY_MS = 86_400_000;
type KindFilter = 'all' | 'deposit' | 'withdrawal' | 'transfer';
type PeriodFilter = 'all' | 'week' | 'month';
const KINDS: Record<KindFilter, PostingKind[] | undefined> = { all: undefined, deposit: ['deposit'], withdrawal: ['withdrawal'], transfer: ['transfer-in', 'transfer-out'] };
const PERIOD_DAYS: Record<PeriodFilter, number | undefined> = { all: undefined, week: 7, month: 30 };

/** The filters and pages seen; kept by the app because the screen unmounts while a page loads. */
export interface HistoryUi {
  readonly kind: KindFilter;
  readonly period: PeriodFilter;
  /** The cursor that loaded each page up to the one shown (undefined: the first page). */
  readonly trail: readonly (string | undefined)[];
}

export const HISTORY_UI_START: HistoryUi = { kind: 'all', period: 'all', trail: [undefined] };

/** One page at a time from the host. The host pages forward only, so "previous" replays the cursor
 *  that led to the page before, kept here. */
export function HistoryScreen({ snap, t, atm, expectWork, ui, setUi }: ScreenProps & { ui: HistoryUi; setUi: (ui: HistoryUi) => void }) {
  const { kind, period, trail } = ui;
  const setKind = (k: KindFilter) => setUi({ ...ui, kind: k, trail: [undefined] });
  const setPeriod = (p: PeriodFilter) => setUi({ ...ui, period: p, trail: [undefined] });
  const setTrail = (next: (string | undefined)[]) => setUi({ ...ui, trail: next });
  const view = snap.view?.kind === 'history' ? snap.view : undefined;
  const accountId = view?.accountId;
  const currency = snap.customer?.accounts.find((a) => a.accountId === accountId)?.currency;

  const load = (nextKind: KindFilter, nextPeriod: PeriodFilter, cursor: string | undefined) => {
    const days = PERIOD_DAYS[nextPeriod];
    const kinds = KINDS[nextKind];
    const request: HistoryRequest = {
      ...(accountId ? { accountId } : {}),
      ...(kinds ? { kinds } : {}),
      ...(days !== undefined ? { sinceMs: Date.now() - days * DAY_MS } : {}),
      ...(cursor ? { cursor } : {}),
    };
    expectWork('request');
    send(atm.history(request));
  };
  const filter = <K extends string>(label: string, options: Record<K, string>, selected: K, choose: (k: K) => void) => (
    <div class="toggle-group compact" role="group" aria-label={label}>
      {(Object.keys(options) as K[]).map((key) => (
        <button type="button" key={key} aria-pressed={key === selected} data-filter={key} onClick={() => choose(key)}>
          {options[key]}
        </button>
      ))}
    </div>
  );
  const pageNumber = trail.length;
  return (
    <section class="history">
      <ScreenTitle text={t.historyTitle} />
      <NoticeBanner snap={snap} t={t} />
      {filter(t.filters, t.kindFilters, kind, (k) => {
        setKind(k);
        load(k, period, undefined);
      })}
      {filter(t.filters, t.periodFilters, period, (p) => {
        setPeriod(p);
        load(kind, p, undefined);
      })}
      {view && view.entries.length > 0 ? (
        <table class="history-table">
          <caption class="sr-only">
            {t.historyTitle}, {t.page(pageNumber)}
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
            {view.entries.map((e) => (
              <tr key={e.postingId} data-kind={e.kind}>
                <td>{formatDateTime(e.timestampMs, snap.language)}</td>
                <td>{t.kindNames[e.kind]}</td>
                <td class="num">{formatMoney(e.amountCents, snap.language, currency)}</td>
                <td class="num">{formatMoney(e.balanceAfterCents, snap.language, currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="lead">{t.historyEmpty}</p>
      )}
      <div class="actions">
        <button type="button" data-action="back-to-menu" onClick={() => send(atm.selectMenu('menu'))}>
          {t.backToMenu}
        </button>
        <button
          type="button"
          data-action="previous-page"
          disabled={trail.length <= 1}
          onClick={() => {
            const previous = trail.slice(0, -1);
            setTrail(previous);
            load(kind, period, previous[previous.length - 1]);
          }}
        >
          {t.previousPage}
        </button>
        <span class="page-number">{t.page(pageNumber)}</span>
        <button
          type="button"
          data-action="next-page"
          disabled={!view?.nextCursor}
          onClick={() => {
            if (!view?.nextCursor) return;
            setTrail([...trail, view.nextCursor]);
            load(kind, period, view.nextCursor);
          }}
        >
          {t.nextPage}
        </button>
      </div>
    </section>
  );
}
