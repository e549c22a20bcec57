// The renderer's only way out: `window.atm`, put there by the Electron preload or the browser bridge.
import type { AtmApi, KioskSnapshot } from '../preload/api.js';
import type { Strings } from './i18n.js';

declare global {
  interface Window {
    readonly atm?: AtmApi;
  }
}

export type WorkKind = 'sign-in' | 'withdraw' | 'print' | 'request';

/** What every screen receives. */
export interface ScreenProps {
  readonly snap: KioskSnapshot;
  readonly t: Strings;
  readonly atm: AtmApi;
  /** Says what the next "working" screen is doing (the controller only says that it is working). */
  readonly expectWork: (kind: WorkKind) => void;
  /** The account the customer chose for this withdrawal or deposit (undefined: their first), kept
   *  across the working screen. */
  readonly accountId: string | undefined;
  readonly setAccountId: (accountId: string) => void;
}

/** Sends a command; a refusal is a UI bug or a race (a double tap) and changes nothing the customer
 *  sees, so it is only logged. */
export function send(promise: Promise<{ ok: boolean; code?: string; message?: string }>): void {
  promise.then(
    (result) => {
      if (!result.ok) console.warn(`atm: command refused (${result.code ?? '?'}): ${result.message ?? ''}`);
    },
    (error: unknown) => console.error('atm: command failed', error),
  );
}
