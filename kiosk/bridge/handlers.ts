// The main-process side of `window.atm`: one plain function per API method, each parsing its one
// untrusted argument with zod before it reaches the KioskController. No Electron here: the Electron IPC
// layer (kiosk/main/main.ts) and the browser bridge (kiosk/browser/, for tests and a technician's laptop)
// call these same functions, so tests exercise exactly the code the kiosk runs.
import { z } from 'zod';
import { KioskCommandError, PASSWORD_CHARS_MAX, USERNAME_CHARS_MAX, type KioskController } from '../core/kiosk.js';
import type { KioskSnapshot, SpeechView } from '../core/ui-contract.js';
import { activityCursor, DENOMINATION_MAX_CENTS, DENOMINATIONS_MAX, MAX_MESSAGE_AMOUNT_CENTS, NOTES_PER_CONTAINER_MAX, postingKind } from '../../protocol/messages.js';
import { describe } from '../common/errors.js';
import { ATM_COMMAND_NAMES, type AtmCommandName, type CommandResult } from '../preload/api.js';

/** History cursors are opaque host strings; the protocol bounds them at 128 characters. */
export const HISTORY_CURSOR_CHARS_MAX = 128;
/** Account ids follow the protocol's id rule. */
const accountId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const amountCents = z.number().int().positive().max(MAX_MESSAGE_AMOUNT_CENTS);
const timestampMs = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const credentials = z.object({ username: z.string().min(1).max(USERNAME_CHARS_MAX), password: z.string().min(1).max(PASSWORD_CHARS_MAX) }).strict();
const none = z.undefined();

/** The controller surface the UI may reach: the commands and the state it renders. */
export type UiController = Pick<
  KioskController,
  'snapshot' | 'on' | 'off' | 'chooseLanguage' | 'beginCardSignIn' | 'beginPasswordSignIn' | 'register' | 'pinPadPress' | 'selectMenu' | 'withdraw' | 'beginDeposit' | 'depositDone' | 'depositCancel' | 'transfer' | 'history' | 'activity' | 'chooseReceipt' | 'printBalance' | 'anotherTransaction' | 'cancel' | 'touch' | 'supervisorMode'
>;

const supervisorCount = z.enum(['unload-cassettes', 'unload-cashbox', 'load-cassettes']);
/** A technician's count: the protocol's bounds (16 denominations, 0..100,000 notes each). */
const countedNotes = z.array(z.object({ denominationCents: z.number().int().positive().max(DENOMINATION_MAX_CENTS), count: z.number().int().min(0).max(NOTES_PER_CONTAINER_MAX) }).strict()).max(DENOMINATIONS_MAX);

function commandTable(controller: UiController) {
  return {
    chooseLanguage: { argument: z.enum(['en', 'fr']), run: (language: 'en' | 'fr') => controller.chooseLanguage(language) },
    beginCardSignIn: { argument: none, run: () => controller.beginCardSignIn() },
    beginPasswordSignIn: { argument: credentials, run: (c: z.infer<typeof credentials>) => controller.beginPasswordSignIn(c.username, c.password) },
    register: { argument: credentials, run: (c: z.infer<typeof credentials>) => controller.register(c.username, c.password) },
    pinPadPress: {
      argument: z.union([z.number().int().min(0).max(9), z.enum(['enter', 'backspace', 'clear', 'cancel'])]),
      run: (key: number | 'enter' | 'backspace' | 'clear' | 'cancel') => controller.pinPadPress(key as Parameters<KioskController['pinPadPress']>[0]),
    },
    selectMenu: {
      argument: z.enum(['balance', 'withdraw', 'deposit', 'history', 'transfer', 'pin-change', 'menu']),
      run: (choice: 'balance' | 'withdraw' | 'deposit' | 'history' | 'transfer' | 'pin-change' | 'menu') => controller.selectMenu(choice),
    },
    withdraw: {
      argument: z.object({ amountCents, accountId: accountId.optional(), receipt: z.boolean().optional() }).strict(),
      run: (r: { amountCents: number; accountId?: string | undefined; receipt?: boolean | undefined }) => controller.withdraw(r.amountCents, r.accountId, r.receipt ?? false),
    },
    beginDeposit: { argument: z.object({ accountId: accountId.optional() }).strict(), run: (r: { accountId?: string | undefined }) => controller.beginDeposit(r.accountId) },
    depositDone: { argument: none, run: () => controller.depositDone() },
    depositCancel: { argument: none, run: () => controller.depositCancel() },
    transfer: {
      argument: z.object({ fromAccountId: accountId, toAccountId: accountId, amountCents }).strict(),
      run: (r: { fromAccountId: string; toAccountId: string; amountCents: number }) => controller.transfer(r),
    },
    history: {
      argument: z
        .object({
          accountId: accountId.optional(),
          sinceMs: timestampMs.optional(),
          untilMs: timestampMs.optional(),
          kinds: z.array(postingKind).min(1).max(4).optional(),
          cursor: z.string().min(1).max(HISTORY_CURSOR_CHARS_MAX).optional(),
        })
        .strict(),
      run: (r: { accountId?: string | undefined; sinceMs?: number | undefined; untilMs?: number | undefined; kinds?: z.infer<typeof postingKind>[] | undefined; cursor?: string | undefined }) =>
        controller.history({
          ...(r.accountId !== undefined ? { accountId: r.accountId } : {}),
          ...(r.sinceMs !== undefined ? { sinceMs: r.sinceMs } : {}),
          ...(r.untilMs !== undefined ? { untilMs: r.untilMs } : {}),
          ...(r.kinds !== undefined ? { kinds: r.kinds } : {}),
          ...(r.cursor !== undefined ? { cursor: r.cursor } : {}),
        }),
    },
    activity: {
      argument: z.object({ sinceMs: timestampMs.optional(), cursor: activityCursor.optional() }).strict(),
      run: (r: { sinceMs?: number | undefined; cursor?: string | undefined }) =>
        controller.activity({ ...(r.sinceMs !== undefined ? { sinceMs: r.sinceMs } : {}), ...(r.cursor !== undefined ? { cursor: r.cursor } : {}) }),
    },
    chooseReceipt: { argument: z.boolean(), run: (wanted: boolean) => controller.chooseReceipt(wanted) },
    printBalance: { argument: none, run: () => controller.printBalance() },
    anotherTransaction: { argument: z.boolean(), run: (wanted: boolean) => controller.anotherTransaction(wanted) },
    cancel: { argument: none, run: () => controller.cancel() },
    touch: { argument: none, run: () => controller.touch() },
    supervisorPrintCounters: { argument: none, run: () => controller.supervisorMode.printCounters() },
    supervisorBeginCount: { argument: supervisorCount, run: (step: z.infer<typeof supervisorCount>) => controller.supervisorMode.beginCount(step) },
    supervisorCount: {
      argument: z.object({ step: supervisorCount, notes: countedNotes }).strict(),
      run: (r: { step: z.infer<typeof supervisorCount>; notes: { denominationCents: number; count: number }[] }) => controller.supervisorMode.submitCount(r),
    },
    supervisorBack: { argument: none, run: () => controller.supervisorMode.back() },
    supervisorClose: { argument: none, run: () => controller.supervisorMode.close() },
  } satisfies Record<AtmCommandName, { argument: z.ZodTypeAny; run: (argument: never) => unknown }>;
}

export interface UiHandlers {
  getState(): KioskSnapshot;
  /** Subscribes to state pushes; returns the unsubscribe function. */
  onState(listener: (snapshot: KioskSnapshot) => void): () => void;
  /** Runs one command from the renderer. `argument` is untrusted; nothing is thrown at the caller. */
  invoke(command: unknown, argument: unknown): Promise<CommandResult>;
}

/** Speech mode beside the controller (kiosk/core/speech/speech-guide.ts): its state joins each snapshot. */
export interface SpeechSource {
  readonly view: SpeechView | undefined;
  on(event: 'change', listener: () => void): unknown;
  off(event: 'change', listener: () => void): unknown;
}

export function createUiHandlers(controller: UiController, log: (message: string, facts: Record<string, unknown>) => void = () => {}, speech?: SpeechSource): UiHandlers {
  const table = commandTable(controller) as Record<AtmCommandName, { argument: z.ZodTypeAny; run: (argument: unknown) => unknown }>;
  const known = new Set<string>(ATM_COMMAND_NAMES);
  const withSpeech = (snapshot: KioskSnapshot): KioskSnapshot => {
    const view = speech?.view;
    return view ? { ...snapshot, speech: view } : snapshot;
  };
  return {
    getState: () => withSpeech(controller.snapshot()),
    onState(listener) {
      const onState = (snapshot: KioskSnapshot) => listener(withSpeech(snapshot));
      const onSpeech = () => listener(withSpeech(controller.snapshot()));
      controller.on('state', onState);
      speech?.on('change', onSpeech);
      return () => {
        controller.off('state', onState);
        speech?.off('change', onSpeech);
      };
    },
    async invoke(command, argument) {
      if (typeof command !== 'string' || !known.has(command)) return refuse('UNKNOWN_COMMAND', 'no such command');
      const entry = table[command as AtmCommandName];
      const parsed = entry.argument.safeParse(argument);
      if (!parsed.success) {
        // The issue text names fields only: an argument may hold a password.
        const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(argument)').join(', ');
        log('ui command refused: bad argument', { command, fields: where });
        return refuse('BAD_ARGUMENT', `${command}: invalid ${where}`);
      }
      try {
        await entry.run(parsed.data);
        return { ok: true };
      } catch (error) {
        if (error instanceof KioskCommandError) {
          log('ui command refused', { command, code: error.code, reason: error.message });
          return refuse(error.code, error.message);
        }
        log('ui command failed', { command, error: describe(error) });
        return refuse('INTERNAL', 'the command failed');
      }
    },
  };
}

function refuse(code: Exclude<CommandResult, { ok: true }>['code'], message: string): CommandResult {
  return { ok: false, code, message };
}

/** The one page allowed to call the API: the renderer's own top frame, loaded from `trustedUrl`'s
 *  origin (a `file:` renderer: that exact file). Anything else (an iframe, a navigation elsewhere) is
 *  refused. The Electron IPC layer passes `event.senderFrame`; the browser bridge the binding's frame. */
export function isTrustedSender(sender: { readonly url: string; readonly isMainFrame: boolean }, trustedUrl: string): boolean {
  if (!sender.isMainFrame) return false;
  let from: URL;
  let trusted: URL;
  try {
    from = new URL(sender.url);
    trusted = new URL(trustedUrl);
  } catch {
    return false;
  }
  if (trusted.protocol === 'file:') return from.protocol === 'file:' && from.pathname === trusted.pathname;
  return from.origin === trusted.origin;
}
