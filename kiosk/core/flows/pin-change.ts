// PIN change in a card session: the current PIN, then the new PIN twice, each typed on the PIN pad and
// handed over as a PIN block by the same entry that signs in (sign-in.ts arms it; the clear PIN never
// leaves the PIN pad's driver). The kiosk cannot compare PIN blocks (each is freshly padded), so all three
// go to the host in one pin.change, which checks the current PIN as a sign-in would (a wrong one is a
// failed try) and that the new PIN was typed the same twice.
import { ProtocolError } from '../../../protocol/errors.js';
import { KioskCommandError, requireScreen } from '../command-checks.js';
import type { PinChangeStep } from '../ui-contract.js';
import type { FlowContext } from './context.js';
import { customerRequestOptions } from './customer-request.js';
import type { SignInFlow } from './sign-in.js';

const NEXT_STEP: Readonly<Record<PinChangeStep, PinChangeStep | undefined>> = { old: 'new', new: 'confirm', confirm: undefined };

export class PinChangeFlow {
  /** The PIN blocks entered so far (hex), in step order; dropped at every end of a visit. */
  private blocks: string[] = [];

  constructor(
    private readonly ctx: FlowContext,
    private readonly signIn: SignInFlow,
  ) {
    signIn.onPinChangeBlock = (block) => this.onBlock(block);
    ctx.visit.onEnd(() => {
      this.blocks = [];
    });
  }

  /** From the menu of a card session: asks for the current PIN. */
  begin(): void {
    const { session } = this.ctx;
    requireScreen(session, 'menu');
    if (!session.customer?.cardLast4 || !this.signIn.swipedPan) throw new KioskCommandError('WRONG_STATE', 'a PIN change needs a card session');
    this.ask('old');
  }

  private ask(step: PinChangeStep, notice?: Parameters<FlowContext['session']['go']>[1]): void {
    const { session } = this.ctx;
    session.pinChangeStep = step;
    session.go('pin-change', notice);
    this.signIn.armPinPad();
  }

  private onBlock(block: Buffer): void {
    const hex = block.toString('hex');
    block.fill(0);
    const step = this.ctx.session.pinChangeStep ?? 'old';
    this.blocks = [...this.blocks.slice(0, step === 'old' ? 0 : step === 'new' ? 1 : 2), hex];
    const next = NEXT_STEP[step];
    if (next) {
      this.ask(next);
      return;
    }
    const [oldPinBlock, newPinBlock, confirmPinBlock] = this.blocks;
    const pan = this.signIn.swipedPan;
    if (!oldPinBlock || !newPinBlock || !confirmPinBlock || !pan) {
      this.ask('old');
      return;
    }
    this.ctx.background(this.send({ pan, oldPinBlock, newPinBlock, confirmPinBlock }), 'PIN change');
  }

  private async send(body: { pan: string; oldPinBlock: string; newPinBlock: string; confirmPinBlock: string }): Promise<void> {
    const { session, visit } = this.ctx;
    await visit.operate(async (epoch) => {
      try {
        await this.ctx.client().requestWithRetry('pin.change', body, customerRequestOptions(this.ctx));
      } catch (error) {
        if (!visit.isCurrent(epoch)) return;
        const code = error instanceof ProtocolError ? error.code : 'INTERNAL';
        if (error instanceof ProtocolError && error.retryable) await visit.end({ code: 'HOST_UNAVAILABLE' });
        else if (code === 'WRONG_PIN' || code === 'WRONG_PIN_LAST_TRY') this.ask('old', { code });
        else if (code === 'PIN_MISMATCH') {
          // The current PIN was right: only the new one is asked again, twice.
          this.blocks = this.blocks.slice(0, 1);
          this.ask('new', { code });
        } else if (code === 'CARD_BLOCKED' || code === 'NOT_SIGNED_IN' || code === 'SESSION_EXPIRED') await visit.end({ code });
        else {
          this.blocks = [];
          session.go('menu', { code });
        }
        return;
      }
      if (!visit.isCurrent(epoch)) return;
      this.blocks = [];
      session.go('another-transaction', { code: 'PIN_CHANGED' });
    });
  }
}
