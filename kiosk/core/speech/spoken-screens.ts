// What each screen says in speech mode and the numbered choices it offers, built from the snapshot the
// screen is drawn from (and the little the speech navigator remembers on that screen: the account chosen,
// a transfer's accounts, an amount being typed). One builder per screen, in a table keyed by every
// screen, so a screen added without speech does not compile (and the coverage test says which).
// Each choice carries what it does, so the number spoken is the number that acts.
import type { AccountSummary } from '../../../protocol/messages.js';
import type { KioskSnapshot, Language, MenuChoice, Screen } from '../ui-contract.js';
import { spokenNotice } from './spoken-notices.js';
import { spokenDate, spokenMoney, spokenNotes, spokenWords, type SpokenWords } from './spoken-words.js';

/** Choices are numbered 1 to 8: 0 repeats and 9 blanks the screen. */
export const SPOKEN_CHOICES_MAX = 8;
/** A history page is read entry by entry; longer pages are cut (the screen shows at most this many). */
export const SPOKEN_HISTORY_ENTRIES_MAX = 10;

/** What the navigator keeps while the customer stays on one screen (forgotten when the screen changes). */
export interface SpeechLocal {
  /** The account a withdrawal is from (default: the first). */
  readonly accountId?: string;
  readonly transferFromId?: string;
  readonly transferToId?: string;
  /** Typing an amount on the PIN pad's digits. */
  readonly entering?: boolean;
}

/** What a choice (or a typed amount) does: the navigator runs it against the controller's commands. */
export type SpeechAction =
  | { readonly kind: 'language'; readonly language: Language }
  | { readonly kind: 'card' }
  | { readonly kind: 'menu'; readonly choice: MenuChoice | 'menu' }
  | { readonly kind: 'finish' }
  | { readonly kind: 'withdraw'; readonly amountCents: number; readonly accountId: string | undefined }
  | { readonly kind: 'local'; readonly local: SpeechLocal }
  | { readonly kind: 'deposit-begin'; readonly accountId: string }
  | { readonly kind: 'deposit-done' }
  | { readonly kind: 'deposit-cancel' }
  | { readonly kind: 'history-next'; readonly accountId: string; readonly cursor: string }
  | { readonly kind: 'transfer'; readonly fromAccountId: string; readonly toAccountId: string; readonly amountCents: number }
  | { readonly kind: 'receipt'; readonly wanted: boolean }
  | { readonly kind: 'another'; readonly wanted: boolean };

export interface SpokenChoice {
  readonly label: string;
  readonly action: SpeechAction;
  /** Said when its number is pressed (default: the label and "press Enter to confirm"). */
  readonly confirm?: string;
}

/** Typing an amount: whole dollars on the PIN pad's digits. */
export interface SpokenEntry {
  readonly prompt: string;
  readonly confirm: (amountCents: number) => string;
  readonly action: (amountCents: number) => SpeechAction;
}

export interface SpokenScreen {
  /** What the screen says, in order (the notice first, then the content). */
  readonly lines: readonly string[];
  readonly choices: readonly SpokenChoice[];
  readonly entry?: SpokenEntry;
  /** What Cancel does here (default: end the visit, as the screen's Cancel button). */
  readonly back?: SpeechAction;
}

export interface ScreenSpeechInput {
  readonly snap: KioskSnapshot;
  readonly local: SpeechLocal;
  /** On take-cash: the seconds left now, when the screen is said again (default: the snapshot's
   *  `secondsToTake`, the time given as the notes were presented). */
  readonly takeCashSecondsLeft?: number;
}

type Builder = (input: ScreenSpeechInput, words: SpokenWords, language: Language) => SpokenScreen;

const toMenu: SpeechAction = { kind: 'menu', choice: 'menu' };

function noticeLines(snap: KioskSnapshot, language: Language): string[] {
  const notice = snap.notice;
  if (!notice) return [];
  const amount = notice.amountCents !== undefined ? spokenMoney(notice.amountCents, language) : undefined;
  const notes = notice.notesCents && notice.notesCents.length > 0 ? spokenNotes(notice.notesCents, language) : undefined;
  return [spokenNotice(language, notice.code, { amount, notes })];
}

/** "Chequing", or "Chequing ending in 3 f 9 a" when the customer has two of a kind (as the screen). */
export function spokenAccount(words: SpokenWords, account: AccountSummary, accounts: readonly AccountSummary[]): string {
  const kind = words.accountKind[account.kind];
  const twin = accounts.some((a) => a.kind === account.kind && a.accountId !== account.accountId);
  return twin ? words.accountEnding(kind, account.accountId.slice(-4).split('').join(' ')) : kind;
}

function accountsOf(snap: KioskSnapshot): readonly AccountSummary[] {
  return snap.customer?.accounts ?? [];
}

const welcome: Builder = ({ snap }, words, language) => ({
  lines: [...noticeLines(snap, language), words.welcome],
  choices: snap.languages.map((l) => ({ label: words.languageName[l], action: { kind: 'language', language: l } })),
});

const identify: Builder = ({ snap }, words, language) =>
  snap.identifyMethod === 'card'
    ? { lines: [...noticeLines(snap, language), words.swipe], choices: [] }
    : { lines: [...noticeLines(snap, language), words.identify], choices: [{ label: words.useCard, action: { kind: 'card' } }] };

const pin: Builder = ({ snap }, words, language) => ({
  lines: [...noticeLines(snap, language), words.pin, words.pinDigits(snap.pinDigits)],
  choices: [],
});

const menu: Builder = ({ snap }, words, language) => {
  const items: MenuChoice[] = [
    ...(snap.withdrawalAvailable ? (['withdraw'] as const) : []),
    ...(snap.depositAvailable ? (['deposit'] as const) : []),
    'balance',
    'history',
    'transfer',
    // As on the screen: a card session may change its PIN.
    ...(snap.customer?.cardLast4 ? (['pin-change'] as const) : []),
  ];
  return {
    lines: [...noticeLines(snap, language), ...(snap.customer ? [words.hello(snap.customer.username)] : []), words.menu],
    choices: [...items.map((choice) => ({ label: words.menuChoices[choice], action: { kind: 'menu', choice } as SpeechAction })), { label: words.finish, action: { kind: 'finish' } }],
  };
};

const balance: Builder = ({ snap }, words, language) => {
  const accounts = accountsOf(snap);
  return {
    lines: [
      ...noticeLines(snap, language),
      words.balance,
      ...accounts.map((a) => words.accountBalance(spokenAccount(words, a, accounts), spokenMoney(a.balanceCents, language), spokenMoney(a.availableCents, language))),
    ],
    choices: [
      { label: words.backToMenu, action: toMenu },
      { label: words.finish, action: { kind: 'finish' } },
    ],
    back: toMenu,
  };
};

const withdraw: Builder = ({ snap, local }, words, language) => {
  const accounts = accountsOf(snap);
  const account = accounts.find((a) => a.accountId === local.accountId) ?? accounts[0];
  const accountName = account ? spokenAccount(words, account, accounts) : '';
  const accountId = account?.accountId;
  if (local.entering) {
    return {
      lines: [...noticeLines(snap, language), words.typeAmount],
      choices: [],
      entry: {
        prompt: words.typeAmount,
        confirm: (cents) => words.confirmWithdraw(spokenMoney(cents, language), accountName),
        action: (cents) => ({ kind: 'withdraw', amountCents: cents, accountId }),
      },
      back: { kind: 'local', local: { ...local, entering: false } },
    };
  }
  const others = accounts.filter((a) => a.accountId !== accountId);
  const fixed: SpokenChoice[] = [
    { label: words.otherAmount, action: { kind: 'local', local: { ...local, entering: true } } },
    ...others.map((a) => ({ label: words.fromAccount(spokenAccount(words, a, accounts)), action: { kind: 'local', local: { ...local, accountId: a.accountId } } as SpeechAction })),
    { label: words.backToMenu, action: toMenu },
  ];
  const amounts: SpokenChoice[] = snap.fastCashCents.map((cents) => ({
    label: spokenMoney(cents, language),
    action: { kind: 'withdraw', amountCents: cents, accountId },
    confirm: words.confirmWithdraw(spokenMoney(cents, language), accountName),
  }));
  const remaining = snap.customer?.dailyWithdrawalRemainingCents;
  return {
    lines: [
      ...noticeLines(snap, language),
      words.withdraw(accountName, spokenMoney(account?.availableCents ?? 0, language)),
      ...(remaining !== undefined ? [words.withdrawRemaining(spokenMoney(remaining, language))] : []),
      ...(amounts.length === 0 ? [words.noFastCash] : []),
    ],
    choices: [...amounts.slice(0, Math.max(0, SPOKEN_CHOICES_MAX - fixed.length)), ...fixed].slice(0, SPOKEN_CHOICES_MAX),
    back: toMenu,
  };
};

const deposit: Builder = ({ snap }, words, language) => {
  const view = snap.view;
  if (view?.kind === 'deposit-counting') {
    const count = view.notes.reduce((sum, n) => sum + n.count, 0);
    return {
      lines: [
        ...noticeLines(snap, language),
        words.depositInsert(spokenNotes(view.denominationsCents, language)),
        words.depositCounted(count, spokenMoney(view.totalCents, language)),
        ...(view.counting ? [words.depositCounting] : []),
        words.depositRemaining(spokenMoney(view.remainingTodayCents, language)),
      ],
      choices: [
        { label: words.depositDone, action: { kind: 'deposit-done' } },
        { label: words.depositCancel, action: { kind: 'deposit-cancel' } },
      ],
      back: { kind: 'deposit-cancel' },
    };
  }
  const accounts = accountsOf(snap);
  const remaining = snap.customer?.depositRemainingTodayCents;
  return {
    lines: [...noticeLines(snap, language), words.deposit, ...(remaining !== undefined ? [words.depositRemaining(spokenMoney(remaining, language))] : [])],
    choices: [
      ...(snap.depositAvailable ? accounts.slice(0, SPOKEN_CHOICES_MAX - 1).map((a) => ({ label: words.depositInto(spokenAccount(words, a, accounts)), action: { kind: 'deposit-begin', accountId: a.accountId } as SpeechAction })) : []),
      { label: words.backToMenu, action: toMenu },
    ],
    back: toMenu,
  };
};

const history: Builder = ({ snap }, words, language) => {
  const view = snap.view;
  const lines = [...noticeLines(snap, language)];
  const choices: SpokenChoice[] = [];
  if (view?.kind === 'history') {
    const entries = view.entries.slice(0, SPOKEN_HISTORY_ENTRIES_MAX);
    lines.push(words.history(entries.length));
    for (const e of entries) {
      lines.push(words.historyEntry(spokenDate(e.timestampMs, language), words.postingKind[e.kind], spokenMoney(e.amountCents, language), spokenMoney(e.balanceAfterCents, language)));
    }
    if (view.nextCursor) choices.push({ label: words.nextPage, action: { kind: 'history-next', accountId: view.accountId, cursor: view.nextCursor } });
  } else if (view?.kind === 'activity') {
    const entries = view.entries.slice(0, SPOKEN_HISTORY_ENTRIES_MAX);
    lines.push(words.history(entries.length));
    for (const e of entries) lines.push(words.activityEntry(spokenDate(e.timestampMs, language), words.outcomes[e.outcome], e.amountCents !== undefined ? spokenMoney(e.amountCents, language) : ''));
  } else {
    lines.push(words.history(0));
  }
  choices.push({ label: words.backToMenu, action: toMenu });
  return { lines, choices, back: toMenu };
};

const transfer: Builder = ({ snap, local }, words, language) => {
  const accounts = accountsOf(snap);
  const notice = noticeLines(snap, language);
  const back = { label: words.backToMenu, action: toMenu };
  if (accounts.length < 2) return { lines: [...notice, words.transferNeedsTwo], choices: [back], back: toMenu };
  const from = accounts.find((a) => a.accountId === local.transferFromId);
  const to = accounts.find((a) => a.accountId === local.transferToId);
  const name = (a: AccountSummary) => spokenAccount(words, a, accounts);
  if (!from) {
    return {
      lines: [...notice, words.transferFrom],
      choices: [...accounts.slice(0, SPOKEN_CHOICES_MAX - 1).map((a) => ({ label: name(a), action: { kind: 'local', local: { transferFromId: a.accountId } } as SpeechAction })), back],
      back: toMenu,
    };
  }
  if (!to) {
    const targets = accounts.filter((a) => a.accountId !== from.accountId).slice(0, SPOKEN_CHOICES_MAX - 1);
    return {
      lines: [...notice, words.transferTo(name(from))],
      choices: [...targets.map((a) => ({ label: name(a), action: { kind: 'local', local: { transferFromId: from.accountId, transferToId: a.accountId, entering: true } } as SpeechAction })), back],
      back: { kind: 'local', local: {} },
    };
  }
  return {
    lines: [...notice, words.typeAmount],
    choices: [],
    entry: {
      prompt: words.typeAmount,
      confirm: (cents) => words.confirmTransfer(spokenMoney(cents, language), name(from), name(to)),
      action: (cents) => ({ kind: 'transfer', fromAccountId: from.accountId, toAccountId: to.accountId, amountCents: cents }),
    },
    back: { kind: 'local', local: { transferFromId: from.accountId } },
  };
};

const receipt: Builder = ({ snap }, words, language) => {
  const view = snap.view;
  const lines: string[] = [];
  if (view?.kind === 'withdrawal') lines.push(words.takeCash(spokenMoney(view.dispensedCents, language)));
  else if (view?.kind === 'deposit') {
    lines.push(words.depositResult(spokenMoney(view.creditedCents, language), view.notes.reduce((sum, n) => sum + n.count, 0), spokenMoney(view.availableNowCents, language)));
    if (view.heldCents > 0) lines.push(words.depositHeld(spokenMoney(view.heldCents, language)));
    lines.push(words.newBalance(spokenMoney(view.account.balanceCents, language)));
  } else if (view?.kind === 'transfer') lines.push(words.transferDone(spokenMoney(view.amountCents, language), spokenMoney(view.from.balanceCents, language)));
  lines.push(...noticeLines(snap, language));
  if (!snap.receiptAvailable) {
    return { lines: [...lines, words.receiptUnavailable], choices: [{ label: words.done, action: { kind: 'receipt', wanted: false } }], back: { kind: 'receipt', wanted: false } };
  }
  return {
    lines: [...lines, words.receiptQuestion],
    choices: [
      { label: words.receiptYes, action: { kind: 'receipt', wanted: true } },
      { label: words.receiptNo, action: { kind: 'receipt', wanted: false } },
    ],
    back: { kind: 'receipt', wanted: false },
  };
};

const SCREEN_SPEECH: Readonly<Record<Screen, Builder>> = {
  'out-of-service': (_input, words) => ({ lines: [words.outOfService], choices: [] }),
  welcome,
  identify,
  pin,
  working: ({ snap }, words, language) => ({ lines: [...noticeLines(snap, language), words.working], choices: [] }),
  menu,
  balance,
  withdraw,
  deposit,
  history,
  transfer,
  receipt,
  goodbye: ({ snap }, words, language) => ({ lines: [...noticeLines(snap, language), words.goodbye], choices: [] }),
  // Where the notes are and how long they wait: a listener finds the presenter by touch.
  'take-cash': ({ snap, takeCashSecondsLeft }, words, language) => {
    const view = snap.view?.kind === 'take-cash' ? snap.view : undefined;
    return {
      lines: [
        ...noticeLines(snap, language),
        words.takeCash(spokenMoney(view?.dispensedCents ?? 0, language)),
        ...(view ? [words.takeCashWithin(words.seconds(takeCashSecondsLeft ?? view.secondsToTake))] : []),
      ],
      choices: [],
    };
  },
  'another-transaction': ({ snap }, words, language) => ({
    lines: [...noticeLines(snap, language), words.anotherQuestion],
    choices: [
      { label: words.anotherYes, action: { kind: 'another', wanted: true } },
      { label: words.anotherNo, action: { kind: 'another', wanted: false } },
    ],
    back: { kind: 'another', wanted: false },
  }),
  // The PINs are typed on the PIN pad as at sign-in: only how many digits, never which.
  'pin-change': ({ snap }, words, language) => ({
    lines: [...noticeLines(snap, language), words.pinChangeSteps[snap.pinChangeStep ?? 'old'], words.pinDigits(snap.pinDigits)],
    choices: [],
  }),
  // A technician's replenishment is done on the touch screen; speech says so and what went wrong, if anything.
  supervisor: ({ snap }, words, language) => ({ lines: [...noticeLines(snap, language), words.supervisorMode], choices: [] }),
  'supervisor-count': ({ snap }, words, language) => ({ lines: [...noticeLines(snap, language), words.supervisorMode], choices: [] }),
};

/** The screens that have speech (every screen: the table is keyed by the Screen type). */
export const SPOKEN_SCREENS = Object.keys(SCREEN_SPEECH) as Screen[];

/** What the snapshot's screen says, in the session's language, with its choices numbered from 1. */
export function spokenScreen(input: ScreenSpeechInput): SpokenScreen {
  const language = input.snap.language;
  return SCREEN_SPEECH[input.snap.screen](input, spokenWords(language), language);
}

/** The whole text to speak for a screen: its lines, then "For X, press 1." for each choice. */
export function spokenText(screen: SpokenScreen, language: Language): string {
  const words = spokenWords(language);
  return [...screen.lines, ...screen.choices.map((c, i) => words.choice(i + 1, c.label))].join(' ');
}
