import { useEffect, useRef, useState } from 'preact/hooks';
import type { AtmApi, KioskSnapshot, Language } from '../preload/api.js';
import { send, type ScreenProps, type WorkKind } from './atm.js';
import { Icon } from './components/icon.js';
import { IdleWarning } from './components/idle-warning.js';
import { stringsFor } from './i18n.js';
import { AnotherTransactionScreen } from './screens/another-transaction.js';
import { BalanceScreen } from './screens/balance.js';
import { DepositScreen } from './screens/deposit.js';
import { GoodbyeScreen } from './screens/goodbye.js';
import { HISTORY_UI_START, HistoryScreen, type HistoryUi } from './screens/history.js';
import { IdentifyScreen } from './screens/identify.js';
import { MenuScreen } from './screens/menu.js';
import { OutOfServiceScreen } from './screens/out-of-service.js';
import { PinScreen } from './screens/pin.js';
import { ReceiptScreen } from './screens/receipt.js';
import { SupervisorCountScreen, SupervisorScreen } from './screens/supervisor.js';
import { TakeCashScreen } from './screens/take-cash.js';
import { TransferScreen } from './screens/transfer.js';
import { WelcomeScreen } from './screens/welcome.js';
import { WithdrawScreen } from './screens/withdraw.js';
import { WorkingScreen } from './screens/working.js';

/** Touches reach the controller's inactivity timer at most this often (every key of the on-screen
 *  keyboard is a touch, but the timer needs only to know the customer is still there). */
const TOUCH_REPORT_INTERVAL_MS = 2_000;

/** Screens that show the Cancel button: a customer is present and the kiosk is waiting for them. */
const CANCELLABLE = new Set<KioskSnapshot['screen']>(['identify', 'pin', 'pin-change', 'menu', 'balance', 'withdraw', 'deposit', 'history', 'transfer', 'supervisor', 'supervisor-count']);

export function App({ atm }: { atm: AtmApi }) {
  const [snap, setSnap] = useState<KioskSnapshot | undefined>(undefined);
  const [work, setWork] = useState<WorkKind | undefined>(undefined);
  const [historyUi, setHistoryUi] = useState<HistoryUi>(HISTORY_UI_START);
  // The account a withdrawal or deposit is from: kept here because the screen unmounts while the host
  // answers, and a refusal ("not enough money in this account") must come back on the account it was for.
  const [accountId, setAccountId] = useState<string | undefined>(undefined);
  const lastTouchMs = useRef(0);

  useEffect(() => {
    let pushed = false;
    const off = atm.onState((next) => {
      pushed = true;
      setSnap(next);
    });
    // A push that arrived while getState was in flight is newer than its answer.
    atm.getState().then((first) => {
      if (!pushed) setSnap(first);
    }, (error: unknown) => console.error('atm: getState failed', error));
    return off;
  }, [atm]);

  const screen = snap?.screen;
  useEffect(() => {
    if (screen !== 'working') setWork(undefined);
    if (screen === 'menu' || screen === 'welcome') {
      setHistoryUi(HISTORY_UI_START);
      setAccountId(undefined);
    }
    if (screen) performance.mark(`screen:${screen}`);
  }, [screen]);

  const language: Language = snap?.language ?? 'en';
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  if (!snap) return <main class="frame" aria-busy="true" />;
  const t = stringsFor(language);
  const props: ScreenProps = { snap, t, atm, expectWork: setWork, accountId, setAccountId };
  const onActivity = () => {
    // While the inactivity warning shows, only its own buttons answer it. A finger landing on "more time"
    // must not dismiss the dialog by itself: the dialog would vanish under the finger, and the tap's click
    // would land on whatever the screen has beneath it (the menu's transfer button, in a test that caught it).
    if (snap.idleWarning) return;
    const now = Date.now();
    if (now - lastTouchMs.current < TOUCH_REPORT_INTERVAL_MS || !CANCELLABLE.has(snap.screen) && snap.screen !== 'receipt' && snap.screen !== 'another-transaction') return;
    lastTouchMs.current = now;
    send(atm.touch());
  };
  const other = snap.languages.find((l) => l !== language);
  // Not on the screens that already speak every language, nor while the kiosk is busy.
  const showLanguage = other !== undefined && snap.screen !== 'welcome' && snap.screen !== 'working' && snap.screen !== 'out-of-service';

  const status =
    snap.screen === 'out-of-service' ? t.statusOutOfService : snap.customer?.cardLast4 ? t.statusCard(snap.customer.cardLast4) : snap.customer ? t.statusSignedIn : t.statusReady;

  return (
    <div class="frame" data-screen={snap.screen} onPointerDown={onActivity} onKeyDown={onActivity}>
      {/* While the inactivity warning shows, everything but the dialog is inert (not only hidden behind
          its backdrop: a keyboard or screen reader cannot reach it either). */}
      <header class="bar" inert={snap.idleWarning || snap.speech?.screenBlanked === true}>
        <Icon name="bank" class="icon logo" />
        <span class="identity">
          <span class="brand">{t.bank}</span>
          <span class="status" data-testid="status">
            <Icon name={snap.screen === 'out-of-service' ? 'alert' : 'lock'} class="icon small" />
            {status}
          </span>
        </span>
        <span class="bar-actions">
          {showLanguage && (
            <button type="button" class="on-bar" lang={other} data-action="switch-language" onClick={() => send(atm.chooseLanguage(other))}>
              <Icon name="globe" />
              {t.switchLanguage}
            </button>
          )}
          {/* A deposit taking notes has its own Cancel (which gives back the note being read). */}
          {CANCELLABLE.has(snap.screen) && snap.view?.kind !== 'deposit-counting' && (
            <button type="button" class="on-bar cancel" data-action="cancel" onClick={() => send(atm.cancel())}>
              <Icon name="close" />
              {t.cancel}
            </button>
          )}
        </span>
      </header>
      <main class="content" inert={snap.idleWarning || snap.speech?.screenBlanked === true}>
        {renderScreen(snap, props, work, historyUi, setHistoryUi)}
      </main>
      {snap.idleWarning && <IdleWarning t={t} seconds={snap.idleWarningSeconds ?? 0} onMore={() => send(atm.touch())} onEnd={() => send(atm.cancel())} />}
      {/* Speech mode's privacy blanking: nothing on the glass while the customer listens on the headset. */}
      {snap.speech?.screenBlanked && <div class="privacy-blank" data-testid="privacy-blank" />}
    </div>
  );
}

function renderScreen(snap: KioskSnapshot, props: ScreenProps, work: WorkKind | undefined, historyUi: HistoryUi, setHistoryUi: (ui: HistoryUi) => void) {
  // Keyed by screen so each screen starts from its own initial state.
  switch (snap.screen) {
    case 'out-of-service':
      return <OutOfServiceScreen key="oos" {...props} />;
    case 'welcome':
      return <WelcomeScreen key="welcome" {...props} />;
    case 'identify':
      return <IdentifyScreen key="identify" {...props} />;
    case 'pin':
      return <PinScreen key="pin" {...props} />;
    case 'pin-change':
      return <PinScreen key="pin-change" {...props} />;
    case 'working':
      return <WorkingScreen key="working" {...props} work={work} />;
    case 'menu':
      return <MenuScreen key="menu" {...props} />;
    case 'balance':
      return <BalanceScreen key="balance" {...props} />;
    case 'withdraw':
      return <WithdrawScreen key="withdraw" {...props} />;
    case 'deposit':
      return <DepositScreen key="deposit" {...props} />;
    case 'transfer':
      return <TransferScreen key="transfer" {...props} />;
    case 'history':
      return <HistoryScreen key="history" {...props} ui={historyUi} setUi={setHistoryUi} />;
    case 'receipt':
      return <ReceiptScreen key="receipt" {...props} />;
    case 'take-cash':
      return <TakeCashScreen key="take-cash" {...props} />;
    case 'another-transaction':
      return <AnotherTransactionScreen key="another" {...props} />;
    case 'goodbye':
      return <GoodbyeScreen key="goodbye" {...props} />;
    case 'supervisor':
      return <SupervisorScreen key="supervisor" {...props} />;
    case 'supervisor-count':
      return <SupervisorCountScreen key={`count-${snap.view?.kind === 'supervisor' ? (snap.view.counting ?? '') : ''}`} {...props} />;
  }
}
