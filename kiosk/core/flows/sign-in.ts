// How a customer is identified: a card swipe then the PIN (on the encrypting PIN pad; the demo setting's
// HID or on-screen keypad in a demo), a username and password, or registering a new customer. The clear
// PIN never reaches this flow: the PIN pad hands over an ISO 9564 format-4 PIN block under its PIN
// encryption key, which this flow sends to the host and wipes.
import type { SessionInfo } from '../../../protocol/messages.js';
import { ProtocolError } from '../../../protocol/errors.js';
import { PinEntry } from '../../devices/pin-pad/pin-entry.js';
import { checkText, KioskCommandError, requireScreen } from '../command-checks.js';
import type { KioskDevices } from '../devices.js';
import type { PinPadKey } from '../ui-contract.js';
import type { FlowContext } from './context.js';
import { CUSTOMER_REQUEST_TIMEOUT_MS } from './customer-request.js';

/** Sign-in includes scrypt at the host (~100 ms at production cost) and may need one reconnect. */
export const SIGNIN_DEADLINE_MS = 15_000;
export const USERNAME_CHARS_MAX = 64;
export const PASSWORD_CHARS_MAX = 128;

type SignInKind = 'password' | 'register' | 'card';

export class SignInFlow {
  /** The swiped card's number, kept for the PIN retries of this visit only. */
  private cardPan: string | undefined;
  private pinEnteredAtMs: number | undefined;

  constructor(
    private readonly ctx: FlowContext,
    /** A technician's card signed in (the host's `supervisor` role): supervisor mode, never the menu. */
    private readonly onSupervisor: (info: SessionInfo) => Promise<void>,
  ) {
    ctx.visit.onEnd(() => {
      this.cardPan = undefined;
      this.pinEnteredAtMs = undefined;
    });
  }

  /** Listens to the card reader and the PIN pad; returns the functions that stop listening. */
  watch(devices: KioskDevices): (() => void)[] {
    const { cardReader, pinPad } = devices;
    const { session, visit, log } = this.ctx;
    return [
      // Every end of a visit disarms the PIN pad, whatever it was waiting for.
      visit.onEnd(() => pinPad.abort()),
      cardReader.on('card', (event) => this.onCardSwiped(event.pan)),
      cardReader.on('bad-swipe', (event) => {
        if (session.screen === 'welcome' || session.screen === 'identify') session.setNotice({ code: 'BAD_SWIPE' });
        log.info('bad card swipe', { reason: event.reason });
      }),
      pinPad.on('unavailable', () => {
        if (session.screen === 'pin') this.ctx.background(visit.end({ code: 'PIN_PAD_UNAVAILABLE' }), 'end session on PIN pad loss');
      }),
      pinPad.on('digit-entered', (event) => this.setPinDigits(event.count)),
      pinPad.on('digit-removed', (event) => this.setPinDigits(event.count)),
      pinPad.on('digit-ignored', () => session.touch()),
      pinPad.on('cleared', () => this.setPinDigits(0)),
      pinPad.on('cancel', () => visit.cancel()),
      pinPad.on('too-short', () => session.setNotice({ code: 'PIN_TOO_SHORT' })),
      pinPad.on('submit', () => {
        this.pinEnteredAtMs = this.ctx.now();
      }),
      pinPad.on('pin-block', (event) => this.onPinBlock(event.block)),
    ];
  }

  /** The customer chose to use a card: the UI asks for a swipe; the swipe itself moves on to the PIN. */
  beginCard(): void {
    const { session } = this.ctx;
    requireScreen(session, 'welcome', 'identify');
    if (session.screen === 'welcome') session.go('identify');
    session.identifyMethod = 'card';
    session.touch();
    this.ctx.emitState();
  }

  async withPassword(username: string, password: string): Promise<void> {
    this.checkCredentials(username, password);
    this.ctx.session.identifyMethod = 'password';
    await this.signIn('password', () => this.ctx.client().requestWithRetry('signin.password', { username, password }, this.signInOptions()));
  }

  async register(username: string, password: string): Promise<void> {
    this.checkCredentials(username, password);
    this.ctx.session.identifyMethod = 'register';
    await this.signIn('register', () => this.ctx.client().requestWithRetry('register', { username, password }, this.signInOptions()));
  }

  /** A key of the on-screen PIN pad. Refused when a hardware keypad is configured: then digits must
   *  come from the keypad, which the renderer never sees. */
  pressPinPadKey(key: PinPadKey): void {
    const pad = this.ctx.devices().pinPad;
    if (!(pad instanceof PinEntry)) throw new KioskCommandError('NOT_ON_SCREEN', 'this kiosk has a hardware PIN pad');
    requireScreen(this.ctx.session, 'pin', 'pin-change');
    if (typeof key === 'number') {
      if (!Number.isInteger(key) || key < 0 || key > 9) throw new KioskCommandError('BAD_ARGUMENT', 'a PIN digit is 0..9');
      pad.pressDigit(key);
      return;
    }
    switch (key) {
      case 'enter':
        return pad.pressEnter();
      case 'backspace':
        return pad.pressBackspace();
      case 'clear':
        return pad.pressClear();
      case 'cancel':
        return pad.pressCancel();
      default:
        throw new KioskCommandError('BAD_ARGUMENT', 'unknown PIN pad key');
    }
  }

  private checkCredentials(username: string, password: string): void {
    requireScreen(this.ctx.session, 'welcome', 'identify');
    checkText(username, USERNAME_CHARS_MAX, 'username');
    checkText(password, PASSWORD_CHARS_MAX, 'password');
  }

  private async signIn(kind: SignInKind, send: () => Promise<SessionInfo>): Promise<void> {
    const { session, visit } = this.ctx;
    const startedMs = this.ctx.now();
    await visit.operate(async (epoch) => {
      let info: SessionInfo;
      try {
        info = await send();
      } catch (error) {
        if (!visit.isCurrent(epoch)) return;
        const code = error instanceof ProtocolError ? error.code : 'INTERNAL';
        if (error instanceof ProtocolError && error.retryable) {
          await visit.end({ code: 'HOST_UNAVAILABLE' });
        } else if (kind === 'card' && (code === 'WRONG_PIN' || code === 'WRONG_PIN_LAST_TRY')) {
          session.go('pin', { code });
          this.armPinPad();
        } else if (kind === 'card') {
          // Blocked, unknown or expired card: nothing the customer can do here.
          await visit.end({ code });
        } else {
          session.go('identify', { code });
        }
        return;
      }
      if (!visit.isCurrent(epoch)) return;
      visit.signedInAtHost();
      if (info.role === 'supervisor') return this.onSupervisor(info);
      session.customer = {
        username: info.username,
        accounts: info.accounts,
        ...(info.cardLast4 ? { cardLast4: info.cardLast4 } : {}),
        ...(info.dailyWithdrawalRemainingCents !== undefined ? { dailyWithdrawalRemainingCents: info.dailyWithdrawalRemainingCents } : {}),
        ...(info.withdrawalMaxCents !== undefined ? { withdrawalMaxCents: info.withdrawalMaxCents } : {}),
        ...(info.depositRemainingTodayCents !== undefined ? { depositRemainingTodayCents: info.depositRemainingTodayCents } : {}),
      };
      session.go('menu');
      if (kind === 'card' && this.pinEnteredAtMs !== undefined) this.ctx.recordTiming('pin-enter-to-menu', this.ctx.now() - this.pinEnteredAtMs);
      if (kind === 'password') this.ctx.recordTiming('password-submit-to-menu', this.ctx.now() - startedMs);
    });
  }

  private signInOptions(): { deadlineMs: number; timeoutMs: number } {
    return { deadlineMs: this.ctx.now() + SIGNIN_DEADLINE_MS, timeoutMs: CUSTOMER_REQUEST_TIMEOUT_MS };
  }

  private onCardSwiped(pan: string): void {
    const { session, log } = this.ctx;
    if (session.screen !== 'welcome' && session.screen !== 'identify') {
      log.info('card swipe ignored', { screen: session.screen });
      return;
    }
    this.cardPan = pan;
    session.identifyMethod = 'card';
    session.go('pin');
    this.armPinPad();
  }

  /** The card number of this visit's card session (the PIN change binds its PIN blocks to it). */
  get swipedPan(): string | undefined {
    return this.cardPan;
  }

  /** Where the PIN blocks entered on the PIN change screen go (flows/pin-change.ts). */
  onPinChangeBlock: ((block: Buffer) => void) | undefined;

  /** Arms the PIN pad for one PIN of this visit's card, as sign-in does. */
  armPinPad(): void {
    if (!this.cardPan) return;
    this.ctx.devices().pinPad.begin({ pan: this.cardPan });
  }

  private setPinDigits(count: number): void {
    const { session } = this.ctx;
    if (session.screen !== 'pin' && session.screen !== 'pin-change') return;
    session.pinDigits = count;
    session.notice = undefined;
    session.touch();
    this.ctx.emitState();
  }

  private onPinBlock(block: Buffer): void {
    const pan = this.cardPan;
    // A PIN change's blocks (the current PIN, the new one twice) go to its flow, built the same way.
    if (pan && this.ctx.session.screen === 'pin-change' && this.onPinChangeBlock) {
      this.onPinChangeBlock(block);
      return;
    }
    if (!pan || this.ctx.session.screen !== 'pin') {
      block.fill(0);
      return;
    }
    const pinBlock = block.toString('hex');
    block.fill(0);
    this.ctx.background(
      this.signIn('card', () => this.ctx.client().requestWithRetry('signin.card', { pan, pinBlock }, this.signInOptions())),
      'card sign-in',
    );
  }
}
