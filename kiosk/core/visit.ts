// One customer's visit, from the first touch to goodbye, beyond what the screen shows (session.ts): which
// visit a late host answer belongs to (`epoch`), whether the kiosk is busy for the customer (a host request,
// a dispense, printing), a cancel that waits for that to end, the host sign-in to undo, and how every visit
// ends: each flow drops what it held for the customer, the host session is signed out, goodbye.
import type { ChannelClient } from '../../protocol/client.js';
import type { Logger } from '../../protocol/log.js';
import { describe } from '../common/errors.js';
import type { CustomerSession } from './session.js';
import type { Notice } from './ui-contract.js';

/** Sign-out is a courtesy (the host also ends a session on disconnect or inactivity). */
export const SIGNOUT_TIMEOUT_MS = 2_000;

export interface CustomerVisitDeps {
  readonly session: CustomerSession;
  readonly log: Logger;
  /** The host client, once the kiosk has started. */
  readonly client: () => ChannelClient | undefined;
  /** Re-evaluates in service / out of service once an operation is over. */
  readonly refresh: () => void;
  readonly background: (work: Promise<unknown>, what: string) => void;
}

export class CustomerVisit {
  private epochNumber = 0;
  private busyNow = false;
  private cancelRequested = false;
  private hostSignedIn = false;
  /** The sign-out of the visit that just ended, while the host has not answered it. */
  private signingOut: Promise<void> | undefined;
  private readonly endHooks = new Set<() => void>();

  constructor(private readonly deps: CustomerVisitDeps) {}

  /** Bumped at every end of a visit, so that a host answer for a visit that has ended is dropped. */
  get epoch(): number {
    return this.epochNumber;
  }

  isCurrent(epoch: number): boolean {
    return epoch === this.epochNumber;
  }

  /** The kiosk is working for the customer: no device health check, no recovery, and a cancel waits. */
  get busy(): boolean {
    return this.busyNow;
  }

  /** The host signed the customer in: the end of the visit signs them out. */
  signedInAtHost(): void {
    this.hostSignedIn = true;
  }

  /** `hook` runs at every end of a visit, before the host sign-out: a flow drops what it held for the
   *  customer (the card number, the receipt, the PIN pad's entry). Returns the function that removes it. */
  onEnd(hook: () => void): () => void {
    this.endHooks.add(hook);
    return () => void this.endHooks.delete(hook);
  }

  /** Ends the customer's visit: every customer datum dropped, host session signed out, goodbye screen. */
  async end(notice?: Notice): Promise<void> {
    const { session, client, log } = this.deps;
    if (!session.inProgress) return;
    this.epochNumber++;
    this.cancelRequested = false;
    for (const hook of this.endHooks) hook();
    const signedIn = this.hostSignedIn;
    this.hostSignedIn = false;
    session.end(notice);
    const host = client();
    if (signedIn && host?.connected) {
      const signOut = host.request('signout', {}, { timeoutMs: SIGNOUT_TIMEOUT_MS }).then(
        () => undefined,
        (error: unknown) => log.info('sign-out not confirmed', { error: describe(error) }),
      );
      this.signingOut = signOut;
      await signOut;
      if (this.signingOut === signOut) this.signingOut = undefined;
    }
  }

  /** Resolves once the last visit's sign-out is answered (or has timed out): the next customer's sign-in
   *  on the same connection must not reach the host before it. */
  whenSignedOut(): Promise<void> {
    return this.signingOut ?? Promise.resolve();
  }

  /** Cancel from any step. During a host request or a dispense it takes effect when that returns (notes
   *  being moved cannot be stopped, and the hold must be settled first). */
  cancel(): void {
    const { session } = this.deps;
    if (!session.inProgress) return;
    if (this.busyNow || session.screen === 'working') {
      this.cancelRequested = true;
      return;
    }
    this.deps.background(this.end({ code: 'CANCELLED' }), 'cancel');
  }

  /** The host connection dropped. The host's session was bound to it, so the customer cannot go on; an
   *  operation in progress (a withdrawal retrying with its request ids) ends the visit itself. */
  hostLost(): void {
    if (this.deps.session.inProgress && !this.busyNow) this.deps.background(this.end({ code: 'HOST_UNAVAILABLE' }), 'end session on host loss');
  }

  /** One customer operation: the screen says 'working' and the kiosk is busy while `work` runs; a cancel
   *  that came meanwhile takes effect after it. `work` gets the visit's epoch to check answers against. */
  async operate(work: (epoch: number) => Promise<void>): Promise<void> {
    const epoch = this.epochNumber;
    this.busyNow = true;
    try {
      this.deps.session.go('working');
      await work(epoch);
    } finally {
      this.busyNow = false;
      this.afterOperation();
    }
  }

  private afterOperation(): void {
    if (this.cancelRequested && this.deps.session.inProgress) this.deps.background(this.end({ code: 'CANCELLED' }), 'cancel');
    this.cancelRequested = false;
    this.deps.refresh();
  }
}
