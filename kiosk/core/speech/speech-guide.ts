// Speech mode for blind customers (ADA 2010 §707.5): while a headset is in the private jack, every screen
// is spoken in the session's language, and the PIN pad's keys drive the kiosk. It sits beside the
// controller: it reads the controller's snapshots, calls the same commands the screen's buttons call, and
// adds `speech` to the snapshots the UI receives (the screen blanked for privacy). Key map (docs/kiosk-ui.md):
//   1-8     choose the numbered choice (said back, with what Enter will do)
//   Enter   confirm the choice (or the amount typed)
//   Cancel  go back (to the menu, or out of a step; on the menu and before sign-in: end the visit)
//   Correct remove the last digit typed, or forget the choice (a pad in clear-text mode has no Clear)
//   0       say the screen again;  9: blank the screen, or show it again
//   F1, F2  the voice a step quieter, or louder (each visit starts at the middle step)
// While an amount is typed every digit is a digit. During PIN entry the keys belong to the PIN.
import { EventEmitter } from 'node:events';
import { describe } from '../../common/errors.js';
import type { Logger } from '../../../protocol/log.js';
import type { KioskController } from '../kiosk.js';
import type { KioskSnapshot, Language, Screen, SpeechView } from '../ui-contract.js';
import { SPEECH_VOLUME_DEFAULT, SPEECH_VOLUME_STEPS, type SpeechVoice, type Utterance } from './espeak-voice.js';
import type { HeadsetJack } from './headset-jack.js';
import { keysInClear, watchPinPadKeys, type SpeechKey } from './pin-pad-keys.js';
import { SPOKEN_CHOICES_MAX, spokenScreen, spokenText, type SpeechAction, type SpeechLocal, type SpokenScreen } from './spoken-screens.js';
import { spokenMoney, spokenWords } from './spoken-words.js';

/** An amount typed on the PIN pad has at most this many digits (whole dollars: up to $999,999). */
export const TYPED_AMOUNT_DIGITS_MAX = 6;
export const REPEAT_DIGIT = 0;
export const BLANK_DIGIT = 9;
/** While presented notes wait (take-cash), a reminder is said at each multiple of this much time left
 *  below the time given (60 s: at 45, 30 and 15 s left): a listener who has not found the presenter yet
 *  hears that the time runs, at a pace that leaves room between reminders to search and to repeat (0). */
export const TAKE_CASH_REMINDER_EVERY_MS = 15_000;
/** Screens where the PIN pad takes a PIN: its keys are never in clear there, nor acted on or said. */
const PIN_SCREENS: ReadonlySet<Screen> = new Set<Screen>(['pin', 'pin-change']);

/** The controller as speech mode uses it: its snapshots and the commands of the screen's buttons. */
export type SpeechController = Pick<
  KioskController,
  'snapshot' | 'on' | 'off' | 'devices' | 'extendTime' | 'chooseLanguage' | 'beginCardSignIn' | 'selectMenu' | 'withdraw' | 'beginDeposit' | 'depositDone' | 'depositCancel' | 'history' | 'transfer' | 'chooseReceipt' | 'anotherTransaction' | 'cancel' | 'touch'
>;

export interface SpeechGuideOptions {
  readonly controller: SpeechController;
  readonly jack: HeadsetJack;
  readonly voice: SpeechVoice;
  readonly log: Logger;
  /** For tests, to run in seconds: the take-cash reminders' interval (default TAKE_CASH_REMINDER_EVERY_MS;
   *  whole seconds, as the reminder says them). */
  readonly takeCashReminderEveryMs?: number;
}

/** The next take-cash reminder: the time left it is said at, and its timer (cleared with the screen). */
interface TakeCashReminder {
  leftMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Pending {
  readonly action: SpeechAction;
  readonly text: string;
}

export class SpeechGuide extends EventEmitter<{ change: [SpeechView | undefined]; spoken: [Utterance] }> {
  private active = false;
  private blanked = false;
  private local: SpeechLocal = {};
  private pending: Pending | undefined;
  private digits = '';
  /** The customer's volume step; back to the middle one for each headset plugged in and each new visit. */
  private volumeStep = SPEECH_VOLUME_DEFAULT;
  private utterance: Utterance | undefined;
  private heard: { screen: Screen; language: Language; lines: readonly string[]; idleWarning: boolean } | undefined;
  private lastFailure: string | undefined;
  /** When presented notes go back: the first take-cash snapshot seen (or spoken) plus its `secondsToTake`;
   *  kept while the screen stays, with or without the headset. */
  private takeCashDeadlineMs: number | undefined;
  private reminder: TakeCashReminder | undefined;
  private readonly reminderEveryMs: number;
  private readonly unsubscribes: (() => void)[] = [];
  private readonly onState = (snapshot: KioskSnapshot) => this.stateChanged(snapshot);

  constructor(private readonly options: SpeechGuideOptions) {
    super();
    this.reminderEveryMs = options.takeCashReminderEveryMs ?? TAKE_CASH_REMINDER_EVERY_MS;
    if (!(Number.isSafeInteger(this.reminderEveryMs) && this.reminderEveryMs >= 1_000 && this.reminderEveryMs % 1_000 === 0)) {
      throw new RangeError(`the take-cash reminders' interval is a whole number of seconds, got ${this.reminderEveryMs} ms`);
    }
  }

  /** Speech mode as the UI sees it (undefined: off). */
  get view(): SpeechView | undefined {
    return this.active ? { active: true, screenBlanked: this.blanked } : undefined;
  }

  /** The volume step speech is said at (1 to SPEECH_VOLUME_STEPS). */
  get volume(): number {
    return this.volumeStep;
  }

  /** The utterance playing (or last played), for the tests. */
  get current(): Utterance | undefined {
    return this.utterance;
  }

  /** After the controller started (its devices exist). */
  start(): void {
    const { controller, jack } = this.options;
    controller.on('state', this.onState);
    this.unsubscribes.push(
      () => void controller.off('state', this.onState),
      jack.onChange((plugged) => this.jackChanged(plugged)),
      watchPinPadKeys(controller.devices.pinPad, (key) => this.keyPressed(key)),
    );
    jack.start();
    if (jack.plugged) this.jackChanged(true);
  }

  stop(): void {
    this.options.jack.stop();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.stopReminders();
    this.utterance?.stop();
    this.active = false;
  }

  // --- the jack ------------------------------------------------------------------------------------

  private jackChanged(plugged: boolean): void {
    if (plugged === this.active) return;
    this.active = plugged;
    this.blanked = false;
    this.volumeStep = SPEECH_VOLUME_DEFAULT;
    this.forgetScreen();
    // A listener hears each screen before answering it: longer inactivity timeouts while speech is on.
    this.options.controller.extendTime(plugged);
    this.keysInClear(plugged && !PIN_SCREENS.has(this.options.controller.snapshot().screen));
    if (plugged) {
      this.options.log.info('speech mode on: headset plugged in');
      const snap = this.options.controller.snapshot();
      const words = spokenWords(snap.language);
      this.speakScreen(snap, `${words.speechOn} ${words.keyHelp}`);
    } else {
      this.options.log.info('speech mode off: headset unplugged');
      this.utterance?.stop();
      this.heard = undefined;
    }
    this.emit('change', this.view);
  }

  // --- what the screen says ------------------------------------------------------------------------

  private screenOf(snap: KioskSnapshot): SpokenScreen {
    return spokenScreen({ snap, local: this.local });
  }

  private stateChanged(snap: KioskSnapshot): void {
    // Seen even with the headset out: plugged in while the notes wait, the listener hears the time left.
    this.noteTakeCash(snap);
    if (!this.active) return;
    const heard = this.heard;
    if (!heard || heard.screen !== snap.screen || heard.language !== snap.language) {
      this.forgetScreen();
      // Keys in clear for menus; never on the PIN screen, where a key typed before PIN entry has started
      // would otherwise leave the pad in clear.
      this.keysInClear(!PIN_SCREENS.has(snap.screen));
      // A new customer sees the screen, whatever the last one asked.
      if (snap.screen === 'welcome') {
        this.volumeStep = SPEECH_VOLUME_DEFAULT;
        if (this.blanked) {
          this.blanked = false;
          this.emit('change', this.view);
        }
      }
      this.speakScreen(snap);
      return;
    }
    if (snap.idleWarning && !heard.idleWarning) {
      this.heard = { ...heard, idleWarning: true };
      this.say(spokenWords(snap.language).idleWarning, snap.language);
      return;
    }
    // Same screen: only what is new (a digit of the PIN, a note counted, a notice).
    const lines = this.screenOf(snap).lines;
    const fresh = lines.filter((line) => !heard.lines.includes(line));
    this.heard = { ...heard, lines, idleWarning: snap.idleWarning };
    if (fresh.length > 0) this.say(fresh.join(' '), snap.language);
  }

  /** Says the whole screen (after `prefix`), and remembers what was said. */
  private speakScreen(snap: KioskSnapshot, prefix?: string): void {
    const screen = this.screenOf(snap);
    this.heard = { screen: snap.screen, language: snap.language, lines: screen.lines, idleWarning: snap.idleWarning };
    // Take-cash is said with the seconds left now (0 repeats it as the time runs); what is remembered as
    // heard stays the snapshot's, so a later snapshot of the same screen does not say the time again.
    const secondsLeft = this.takeCashSecondsLeft(snap);
    const said = secondsLeft === undefined ? screen : spokenScreen({ snap, local: this.local, takeCashSecondsLeft: secondsLeft });
    const text = snap.idleWarning ? spokenWords(snap.language).idleWarning : spokenText(said, snap.language);
    this.say(prefix ? `${prefix} ${text}` : text, snap.language);
    if (secondsLeft !== undefined) this.remindToTakeCash();
  }

  private forgetScreen(): void {
    this.local = {};
    this.pending = undefined;
    this.digits = '';
    this.stopReminders();
  }

  // --- the cash waiting in the presenter -----------------------------------------------------------

  /** On take-cash, the whole seconds left before the notes go back (at least 1, at most the time given). */
  private takeCashSecondsLeft(snap: KioskSnapshot): number | undefined {
    // A guide started while the notes wait counts from now.
    const deadlineMs = this.noteTakeCash(snap);
    if (deadlineMs === undefined || snap.view?.kind !== 'take-cash') return undefined;
    return Math.min(snap.view.secondsToTake, Math.max(1, Math.ceil((deadlineMs - Date.now()) / 1_000)));
  }

  /** The notes' deadline, set by the first take-cash snapshot seen and forgotten off that screen. */
  private noteTakeCash(snap: KioskSnapshot): number | undefined {
    if (snap.screen !== 'take-cash') this.takeCashDeadlineMs = undefined;
    else if (snap.view?.kind === 'take-cash') this.takeCashDeadlineMs ??= Date.now() + snap.view.secondsToTake * 1_000;
    return this.takeCashDeadlineMs;
  }

  /** Arms the reminders (once for the screen): the next at the largest multiple of the interval below
   *  the time left, then one interval after another, down to the last above 0. */
  private remindToTakeCash(): void {
    const deadlineMs = this.takeCashDeadlineMs;
    if (this.reminder || deadlineMs === undefined) return;
    const everyMs = this.reminderEveryMs;
    const reminder: TakeCashReminder = { leftMs: (Math.ceil((deadlineMs - Date.now()) / everyMs) - 1) * everyMs, timer: undefined };
    this.reminder = reminder;
    const next = (): void => {
      reminder.timer = undefined;
      if (reminder.leftMs <= 0) return;
      reminder.timer = setTimeout(() => {
        const snap = this.options.controller.snapshot();
        // The timer is cleared with the screen; this only guards a change it was not told of.
        if (!this.active || snap.screen !== 'take-cash') return this.stopReminders();
        const words = spokenWords(snap.language);
        this.say(words.takeCashReminder(words.seconds(reminder.leftMs / 1_000)), snap.language);
        reminder.leftMs -= everyMs;
        next();
      }, Math.max(0, deadlineMs - reminder.leftMs - Date.now()));
    };
    next();
  }

  private stopReminders(): void {
    clearTimeout(this.reminder?.timer);
    this.reminder = undefined;
  }

  /** Stops what is being said and says `text`. */
  private say(text: string, language: Language): void {
    this.utterance?.stop();
    const utterance = this.options.voice.speak(text, language, this.volumeStep);
    this.utterance = utterance;
    this.emit('spoken', utterance);
    void utterance.ended.then((end) => {
      if (end.kind !== 'failed') return;
      // Said once per kind of failure: a missing espeak-ng would otherwise fill the log at every screen.
      if (end.error.message !== this.lastFailure) this.options.log.error('speech failed', { error: end.error.message });
      this.lastFailure = end.error.message;
    });
  }

  // --- the keys ------------------------------------------------------------------------------------

  private keyPressed(key: SpeechKey): void {
    if (!this.active) return;
    const { controller } = this.options;
    const snap = controller.snapshot();
    // On the PIN screen every key is the PIN's, even one the pad reports in clear because PIN entry has
    // not started yet: it is neither acted on nor said.
    if (PIN_SCREENS.has(snap.screen)) return;
    const words = spokenWords(snap.language);
    const screen = this.screenOf(snap);
    if (key.kind === 'volume') {
      // Any screen but the PIN's (above): the new step is said at its own loudness. Not a choice, and it
      // keeps what is typed or chosen; the idle clock starts again as for any key.
      this.touch();
      const step = this.volumeStep + key.change;
      if (step < 1 || step > SPEECH_VOLUME_STEPS) return this.say(key.change > 0 ? words.loudest : words.quietest, snap.language);
      this.volumeStep = step;
      return this.say(words.volume(step, SPEECH_VOLUME_STEPS), snap.language);
    }
    if (snap.idleWarning) {
      // Any key is "more time"; Cancel ends the visit, as on the warning's buttons.
      if (key.kind === 'cancel') this.run({ kind: 'finish' });
      else this.touch();
      return;
    }
    this.touch();
    const entering = screen.entry !== undefined && this.pending === undefined;
    if (key.kind === 'digit' && !entering && key.digit === REPEAT_DIGIT) return this.speakScreen(snap);
    if (key.kind === 'digit' && !entering && key.digit === BLANK_DIGIT) {
      this.blanked = !this.blanked;
      this.emit('change', this.view);
      return this.say(this.blanked ? words.blanked : words.shown, snap.language);
    }
    const pending = this.pending;
    switch (key.kind) {
      case 'enter':
        if (pending) {
          // A refused amount (a limit) is answered on this screen: the next one is typed afresh.
          this.pending = undefined;
          this.digits = '';
          return this.run(pending.action);
        }
        if (screen.entry) {
          const cents = Number(this.digits || '0') * 100;
          if (cents === 0) return this.say(`${words.nothingTyped} ${screen.entry.prompt}`, snap.language);
          this.pending = { action: screen.entry.action(cents), text: screen.entry.confirm(cents) };
          return this.say(this.pending.text, snap.language);
        }
        return this.say(screen.choices.length > 0 ? words.chooseFirst : spokenText(screen, snap.language), snap.language);
      case 'cancel':
        if (pending) {
          this.pending = undefined;
          return this.speakScreen(snap);
        }
        return this.run(screen.back ?? { kind: 'finish' });
      case 'clear':
        this.pending = undefined;
        if (screen.entry) {
          this.digits = '';
          return this.say(screen.entry.prompt, snap.language);
        }
        return this.say(words.cleared, snap.language);
      case 'correct':
        if (screen.entry && !pending) {
          this.digits = this.digits.slice(0, -1);
          return this.say(this.digits ? words.typed(spokenMoney(Number(this.digits) * 100, snap.language)) : words.nothingTyped, snap.language);
        }
        this.pending = undefined;
        return this.say(words.cleared, snap.language);
      case 'digit':
        if (screen.entry) {
          if (pending) return this.say(pending.text, snap.language);
          if (this.digits.length >= TYPED_AMOUNT_DIGITS_MAX) return this.say(words.amountTooLarge, snap.language);
          if (this.digits === '' && key.digit === 0) return this.say(words.nothingTyped, snap.language);
          this.digits += String(key.digit);
          return this.say(words.typed(spokenMoney(Number(this.digits) * 100, snap.language)), snap.language);
        }
        return this.choose(key.digit, screen, snap.language);
    }
  }

  private choose(digit: number, screen: SpokenScreen, language: Language): void {
    const words = spokenWords(language);
    const choice = digit >= 1 && digit <= SPOKEN_CHOICES_MAX ? screen.choices[digit - 1] : undefined;
    if (!choice) {
      this.pending = undefined;
      return this.say(`${words.noChoice(digit)} ${spokenText({ lines: [], choices: screen.choices }, language)}`, language);
    }
    this.pending = { action: choice.action, text: choice.confirm ?? words.chosen(choice.label) };
    this.say(this.pending.text, language);
  }

  /** Keys in clear (menus) or not; a pad busy with a PIN refuses, and is asked again at the next screen. */
  private keysInClear(on: boolean): void {
    keysInClear(this.options.controller.devices.pinPad, on, (error) => this.options.log.debug('speech: PIN pad clear-text mode refused', { error: describe(error) }));
  }

  private touch(): void {
    try {
      this.options.controller.touch();
    } catch (error) {
      this.options.log.warn('speech: touch refused', { error: describe(error) });
    }
  }

  /** Runs what a choice does, with the same commands as the screen's buttons. */
  private run(action: SpeechAction): void {
    const c = this.options.controller;
    const work = (): void | Promise<void> => {
      switch (action.kind) {
        case 'language':
          return c.chooseLanguage(action.language);
        case 'card':
          return c.beginCardSignIn();
        case 'menu':
          return c.selectMenu(action.choice);
        case 'finish':
          return c.cancel();
        case 'withdraw':
          return c.withdraw(action.amountCents, action.accountId);
        case 'local': {
          this.local = action.local;
          this.pending = undefined;
          this.digits = '';
          return this.speakScreen(c.snapshot());
        }
        case 'deposit-begin':
          return c.beginDeposit(action.accountId);
        case 'deposit-done':
          return c.depositDone();
        case 'deposit-cancel':
          return c.depositCancel();
        case 'history-next':
          return c.history({ accountId: action.accountId, cursor: action.cursor });
        case 'transfer':
          return c.transfer({ fromAccountId: action.fromAccountId, toAccountId: action.toAccountId, amountCents: action.amountCents });
        case 'receipt':
          return c.chooseReceipt(action.wanted);
        case 'another':
          return c.anotherTransaction(action.wanted);
      }
    };
    const refused = (error: unknown) => this.options.log.warn('speech: command refused', { action: action.kind, error: describe(error) });
    try {
      const result = work();
      if (result instanceof Promise) result.catch(refused);
    } catch (error) {
      refused(error);
    }
  }
}
