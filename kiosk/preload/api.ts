// The one API the renderer sees, as `window.atm`. The renderer is untrusted: every method takes at most
// one plain JSON argument, which the main process validates (kiosk/main/handlers.ts) before it reaches
// the controller. Customer outcomes arrive as state pushes, never as results: a command's result only
// says whether the main process accepted it (a refusal is a UI bug or a race, such as a double tap).
//
// The snapshot types are written out here rather than imported from kiosk/core/session.ts because that
// file (and config.ts, which it imports) needs Node's types, which the renderer must not have.
// test/kiosk/ui/api-types.ts makes `tsc` fail the moment these differ from the core's.
import type { AccountSummary, ActivityEntry, HistoryEntry, PostingKind } from '../../protocol/messages.js';

export type { AccountSummary, ActivityEntry, HistoryEntry, PostingKind };

export type Language = 'en' | 'fr';

export type Screen = 'out-of-service' | 'welcome' | 'identify' | 'pin' | 'working' | 'menu' | 'balance' | 'withdraw' | 'deposit' | 'history' | 'transfer' | 'receipt' | 'goodbye';

export type MenuChoice = 'balance' | 'withdraw' | 'deposit' | 'history' | 'transfer';
export type IdentifyMethod = 'card' | 'password' | 'register';

export interface Notice {
  readonly code: string;
  readonly amountCents?: number;
}

export type SessionView =
  | { readonly kind: 'balance'; readonly account: AccountSummary }
  | { readonly kind: 'history'; readonly accountId: string; readonly entries: readonly HistoryEntry[]; readonly nextCursor?: string }
  | { readonly kind: 'activity'; readonly entries: readonly ActivityEntry[]; readonly nextCursor?: string }
  | { readonly kind: 'withdrawal'; readonly amountCents: number; readonly dispensedCents: number; readonly short: boolean }
  | { readonly kind: 'deposit'; readonly amountCents: number; readonly account: AccountSummary }
  | { readonly kind: 'transfer'; readonly amountCents: number; readonly from: AccountSummary; readonly to: AccountSummary };

export interface CustomerView {
  readonly username: string;
  readonly cardLast4?: string;
  readonly accounts: readonly AccountSummary[];
  readonly dailyWithdrawalRemainingCents?: number;
}

/** What the UI renders; see docs/kiosk-core.md. Never holds a secret (no PIN digit, PAN or password). */
export interface KioskSnapshot {
  readonly screen: Screen;
  readonly language: Language;
  readonly languages: readonly Language[];
  readonly outOfServiceReasons: readonly string[];
  readonly identifyMethod?: IdentifyMethod;
  readonly pinDigits: number;
  readonly onScreenPinPad: boolean;
  readonly idleWarning: boolean;
  readonly notice?: Notice;
  readonly customer?: CustomerView;
  readonly fastCashCents: readonly number[];
  readonly receiptAvailable: boolean;
  /** The dispenser is ready: the menu offers cash only then. */
  readonly withdrawalAvailable: boolean;
  readonly view?: SessionView;
}

export type PinPadKeyName = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 'enter' | 'backspace' | 'clear' | 'cancel';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface AmountRequest {
  readonly amountCents: number;
  readonly accountId?: string;
}

export interface TransferRequest {
  readonly fromAccountId: string;
  readonly toAccountId: string;
  readonly amountCents: number;
}

export interface HistoryRequest {
  readonly accountId?: string;
  readonly sinceMs?: number;
  readonly untilMs?: number;
  readonly kinds?: PostingKind[];
  readonly cursor?: string;
}

export interface ActivityRequest {
  readonly sinceMs?: number;
  readonly cursor?: string;
}

/** Why the main process refused a command; never customer-facing. */
export type CommandRefusal = 'BAD_ARGUMENT' | 'WRONG_STATE' | 'NOT_ON_SCREEN' | 'UNKNOWN_COMMAND' | 'UNTRUSTED_SENDER' | 'INTERNAL';

export type CommandResult = { readonly ok: true } | { readonly ok: false; readonly code: CommandRefusal; readonly message: string };

/** The commands, each with the one argument it takes (`undefined`: none). */
export interface AtmCommands {
  chooseLanguage(language: Language): Promise<CommandResult>;
  beginCardSignIn(): Promise<CommandResult>;
  beginPasswordSignIn(credentials: Credentials): Promise<CommandResult>;
  register(credentials: Credentials): Promise<CommandResult>;
  pinPadPress(key: PinPadKeyName): Promise<CommandResult>;
  selectMenu(choice: MenuChoice | 'menu'): Promise<CommandResult>;
  withdraw(request: AmountRequest): Promise<CommandResult>;
  deposit(request: AmountRequest): Promise<CommandResult>;
  transfer(request: TransferRequest): Promise<CommandResult>;
  history(request: HistoryRequest): Promise<CommandResult>;
  activity(request: ActivityRequest): Promise<CommandResult>;
  chooseReceipt(wanted: boolean): Promise<CommandResult>;
  cancel(): Promise<CommandResult>;
  touch(): Promise<CommandResult>;
}

export type AtmCommandName = keyof AtmCommands;

/** Every command name, for the bridges that build `window.atm` from a name list. */
export const ATM_COMMAND_NAMES = [
  'chooseLanguage',
  'beginCardSignIn',
  'beginPasswordSignIn',
  'register',
  'pinPadPress',
  'selectMenu',
  'withdraw',
  'deposit',
  'transfer',
  'history',
  'activity',
  'chooseReceipt',
  'cancel',
  'touch',
] as const satisfies readonly AtmCommandName[];

export interface AtmApi extends AtmCommands {
  getState(): Promise<KioskSnapshot>;
  /** Calls `listener` with every new snapshot; returns the unsubscribe function. */
  onState(listener: (snapshot: KioskSnapshot) => void): () => void;
}

/** IPC channel names shared by the Electron preload and main process. */
export const IPC_CHANNEL_COMMAND = 'atm:command';
export const IPC_CHANNEL_GET_STATE = 'atm:get-state';
export const IPC_CHANNEL_STATE = 'atm:state';
