// The one API the renderer sees, as `window.atm`. The renderer is untrusted: every method takes at most
// one plain JSON argument, which the main process validates (kiosk/bridge/handlers.ts) before it reaches
// the controller. Customer outcomes arrive as state pushes, never as results: a command's result only
// says whether the main process accepted it (a refusal is a UI bug or a race, such as a double tap).
//
// The snapshot and the commands' argument types are the core's own (kiosk/core/ui-contract.ts, types only
// and free of Node's types), imported as types: nothing of the core runs here or in the renderer.
import type { AccountSummary, ActivityEntry, HistoryEntry, PostingKind } from '../../protocol/messages.js';
import type { ActivityRequest, HistoryRequest, KioskSnapshot, Language, MenuChoice, PinPadKey, SupervisorCount, SupervisorCountRequest, TransferRequest } from '../core/ui-contract.js';

export type { AccountSummary, ActivityEntry, HistoryEntry, PostingKind };
export type {
  ActivityRequest,
  CustomerView,
  HistoryRequest,
  IdentifyMethod,
  KioskSnapshot,
  Language,
  MenuChoice,
  Notice,
  NoteCountView,
  PinChangeStep,
  PinPadKey,
  Screen,
  SessionView,
  ContainerBalanceView,
  SupervisorCount,
  SupervisorCountRequest,
  TransferRequest,
  WithdrawalLimits,
} from '../core/ui-contract.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface AmountRequest {
  readonly amountCents: number;
  readonly accountId?: string;
  /** A withdrawal's receipt, chosen before any cash moves. */
  readonly receipt?: boolean;
}

export interface DepositRequest {
  readonly accountId?: string;
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
  pinPadPress(key: PinPadKey): Promise<CommandResult>;
  selectMenu(choice: MenuChoice | 'menu'): Promise<CommandResult>;
  withdraw(request: AmountRequest): Promise<CommandResult>;
  /** Opens a deposit into the account and starts taking notes. */
  beginDeposit(request: DepositRequest): Promise<CommandResult>;
  /** All notes are in: credit the notes counted. */
  depositDone(): Promise<CommandResult>;
  /** Hands back the note in escrow; notes already counted are credited. */
  depositCancel(): Promise<CommandResult>;
  transfer(request: TransferRequest): Promise<CommandResult>;
  history(request: HistoryRequest): Promise<CommandResult>;
  activity(request: ActivityRequest): Promise<CommandResult>;
  chooseReceipt(wanted: boolean): Promise<CommandResult>;
  /** On the balance screen: print the balances shown. */
  printBalance(): Promise<CommandResult>;
  /** "Another transaction?": true goes back to the menu, false ends the session. */
  anotherTransaction(wanted: boolean): Promise<CommandResult>;
  cancel(): Promise<CommandResult>;
  touch(): Promise<CommandResult>;
  /** Supervisor mode (a technician's card): print the kiosk's counters. */
  supervisorPrintCounters(): Promise<CommandResult>;
  /** Opens the count screen for one step of the replenishment. */
  supervisorBeginCount(step: SupervisorCount): Promise<CommandResult>;
  /** The notes counted (or loaded) per denomination for the step on screen. */
  supervisorCount(request: SupervisorCountRequest): Promise<CommandResult>;
  /** Back from the count screen without sending. */
  supervisorBack(): Promise<CommandResult>;
  /** Closes the replenishment and prints the balancing receipt. */
  supervisorClose(): Promise<CommandResult>;
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
  'beginDeposit',
  'depositDone',
  'depositCancel',
  'transfer',
  'history',
  'activity',
  'chooseReceipt',
  'printBalance',
  'anotherTransaction',
  'cancel',
  'touch',
  'supervisorPrintCounters',
  'supervisorBeginCount',
  'supervisorCount',
  'supervisorBack',
  'supervisorClose',
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
