import { useState } from 'preact/hooks';
import type { ContainerBalanceView, SupervisorCount } from '../../preload/api.js';
import { send, type ScreenProps } from '../atm.js';
import { AmountPad } from '../components/amount-pad.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { formatMoney, formatNote } from '../i18n.js';
import { supervisorStringsFor } from '../supervisor-strings.js';

/** A note count typed on the keypad: at most 100,000 notes of a denomination (six digits). */
const COUNT_DIGITS_MAX = 6;

/** Supervisor mode (a technician's card): the replenishment's steps as tiles, each with what is done of
 *  it, and Close, which prints the balancing receipt. The bar's Cancel leaves without closing: the
 *  replenishment stays open for the next technician sign-in. */
export function SupervisorScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const view = snap.view;
  if (view?.kind !== 'supervisor') return null;
  const s = supervisorStringsFor(snap.language);
  const money = (cents: number) => formatMoney(cents, snap.language);
  const done = (container: 'cassettes' | 'cashbox') => view.unloaded.find((u) => u.container === container);
  const result = (balance: ContainerBalanceView | undefined) =>
    balance === undefined ? s.stepToDo : balance.differenceCents === 0 ? s.stepBalanced : s.stepDifference(`${balance.differenceCents > 0 ? '+' : ''}${money(balance.differenceCents)}`);
  const cassettes = done('cassettes');
  const cashbox = done('cashbox');
  const begin = (step: SupervisorCount) => send(atm.supervisorBeginCount(step));
  return (
    <section class="screen supervisor">
      <div class="title-row">
        <div>
          <p class="greeting">{s.supervisorTechnician(view.technician)}</p>
          <ScreenTitle text={s.supervisorTitle} />
        </div>
      </div>
      <NoticeBanner snap={snap} t={t} />
      <div class="tiles supervisor-steps">
        <button
          type="button"
          class="tile"
          data-action="print-counters"
          onClick={() => {
            expectWork('print');
            send(atm.supervisorPrintCounters());
          }}
        >
          <Icon name="receipt" />
          {s.printCounters}
        </button>
        <button type="button" class="tile" data-action="unload-cassettes" disabled={cassettes !== undefined} onClick={() => begin('unload-cassettes')}>
          <Icon name="cash" />
          {s.unloadCassettes}
          <span class="step-state">{result(cassettes)}</span>
        </button>
        {view.cashboxDenominationsCents.length > 0 && (
          <button type="button" class="tile" data-action="unload-cashbox" disabled={cashbox !== undefined} onClick={() => begin('unload-cashbox')}>
            <Icon name="deposit" />
            {s.unloadCashbox}
            <span class="step-state">{result(cashbox)}</span>
          </button>
        )}
        <button type="button" class="tile" data-action="load-cassettes" disabled={cassettes === undefined || view.loadedCents !== undefined} onClick={() => begin('load-cassettes')}>
          <Icon name="plus" />
          {s.loadCassettes}
          <span class="step-state">{view.loadedCents !== undefined ? s.stepLoaded(money(view.loadedCents)) : cassettes === undefined ? s.stepFirstUnload : s.stepToDo}</span>
        </button>
      </div>
      <div class="actions push-down end">
        <button
          type="button"
          class="primary"
          data-action="close-replenishment"
          onClick={() => {
            expectWork('print');
            send(atm.supervisorClose());
          }}
        >
          <Icon name="check" />
          {s.closeReplenishment}
        </button>
      </div>
    </section>
  );
}

/** The technician's count for one step: a note per row (touch it), its count typed on the keypad. */
export function SupervisorCountScreen({ snap, t, atm, expectWork }: ScreenProps) {
  const view = snap.view;
  const step = view?.kind === 'supervisor' ? view.counting : undefined;
  const denominations = view?.kind === 'supervisor' ? (step === 'unload-cashbox' ? view.cashboxDenominationsCents : view.cassetteDenominationsCents) : [];
  const [digits, setDigits] = useState<Record<number, string>>({});
  const [selected, setSelected] = useState<number | undefined>(denominations[0]);
  if (view?.kind !== 'supervisor' || step === undefined) return null;
  const s = supervisorStringsFor(snap.language);
  const countOf = (cents: number) => Number.parseInt(digits[cents] ?? '', 10) || 0;
  const totalCents = denominations.reduce((sum, cents) => sum + cents * countOf(cents), 0);
  const active = selected ?? denominations[0];
  return (
    <section class="screen with-pad supervisor-count">
      <div class="pad-words">
        <ScreenTitle text={s.countTitle(step)} step={step} />
        <p class="body-text">{s.countHint}</p>
        <div class="toggles note-counts" role="group" aria-label={s.countTitle(step)}>
          {denominations.map((cents) => (
            <button type="button" class="toggle" key={cents} data-note={cents} aria-pressed={cents === active} onClick={() => setSelected(cents)}>
              {s.countNote(formatNote(cents, snap.language), countOf(cents))}
            </button>
          ))}
        </div>
        <p class="hint" data-testid="count-total">
          {s.countTotal(formatMoney(totalCents, snap.language))}
        </p>
        <NoticeBanner snap={snap} t={t} />
        <div class="actions push-down">
          <button type="button" data-action="back" onClick={() => send(atm.supervisorBack())}>
            <Icon name="back" />
            {t.back}
          </button>
          <button
            type="button"
            class="primary"
            data-action="count-submit"
            onClick={() => {
              expectWork('request');
              send(atm.supervisorCount({ step, notes: denominations.map((cents) => ({ denominationCents: cents, count: countOf(cents) })) }));
            }}
          >
            {s.countSubmit}
            <Icon name="next" />
          </button>
        </div>
      </div>
      {active !== undefined && (
        <AmountPad
          t={{ ...t, amount: s.countKeypad, amountPad: s.countKeypad }}
          wholeDollars
          digits={digits[active] ?? ''}
          display={String(countOf(active))}
          onDigits={(next) => setDigits({ ...digits, [active]: next.slice(0, COUNT_DIGITS_MAX) })}
        />
      )}
    </section>
  );
}
