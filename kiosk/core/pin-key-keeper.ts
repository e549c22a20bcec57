// Keeps the PIN pad's PIN encryption key (PEK) the host's current one. The host names its check value in
// every answer to the kiosk's status report (kiosk.status); when the pad holds another key or none, the
// keeper asks the host for the key (`pinkey.fetch`, with the pad's certificate) and relays the answer to the
// pad, which alone can open it (protocol/pin-key-delivery.ts). This process never sees the key: it sees
// check values, a certificate, an ephemeral public key and a key block. docs/keys.md "PIN key rotation".
import type { ChannelClient } from '../../protocol/client.js';
import type { Logger } from '../../protocol/log.js';
import { describe } from '../common/errors.js';
import { NO_PIN_KEY_REASON, type PinPad } from '../devices/pin-pad/pin-entry.js';

/** One fetch: the host answers in milliseconds (an X25519 and two CMACs). */
export const PIN_KEY_FETCH_TIMEOUT_MS = 10_000;
/** A pad left without a key is tried again this often. */
export const PIN_KEY_RETRY_MS = 5_000;

export interface PinKeyKeeperDeps {
  readonly deviceId: string;
  readonly client: () => ChannelClient | undefined;
  readonly pinPad: () => PinPad | undefined;
  readonly log: Logger;
  readonly retryMs?: number;
}

export class PinKeyKeeper {
  private running: Promise<void> | undefined;
  /** The run after the one in progress, for the latest check value asked meanwhile: every caller who
   *  asked during a run waits for it, not for the run that began before they asked. */
  private next: Promise<void> | undefined;
  private hostKcv: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private watched: PinPad | undefined;
  private stopped = false;

  constructor(private readonly deps: PinKeyKeeperDeps) {}

  /** The host's current PEK has check value `hostKcv` (undefined: the host has none for this kiosk). Loads it
   *  into the pad when the pad holds another. One run at a time; resolves when a run that began after this
   *  call is done or failed (a run already in progress may have read the pad before the host's key
   *  changed); never rejects. */
  refresh(hostKcv: string | undefined): Promise<void> {
    if (this.stopped || hostKcv === undefined) return Promise.resolve();
    this.hostKcv = hostKcv;
    this.watchPad();
    if (this.running) {
      // `running` settles after its own clean-up, so the next run starts with none in progress; it loads
      // the latest value asked (this.hostKcv), whichever caller asked last.
      this.next ??= this.running.then(() => {
        this.next = undefined;
        return this.refresh(this.hostKcv);
      });
      return this.next;
    }
    this.running = this.refreshOnce(hostKcv).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  private async refreshOnce(hostKcv: string): Promise<void> {
    const { client: clientOf, pinPad: padOf, log, deviceId } = this.deps;
    const pad = padOf();
    const client = clientOf();
    if (!pad || !client?.connected) return;
    try {
      const current = await pad.pinKeyStatus();
      if (current?.kcv === hostKcv) return;
      const answer = await client.request('pinkey.fetch', { eppCertificate: await pad.certificate() }, { timeoutMs: PIN_KEY_FETCH_TIMEOUT_MS });
      const loaded = await pad.loadPinKey({ deviceId, ephemeralPublicKey: answer.ephemeralPublicKey, keyBlock: answer.keyBlock });
      if (loaded.kcv !== answer.kcv) {
        // The pad checked the block's own check value; a host answer naming another is not the host's.
        log.error('the PIN pad loaded a key whose check value is not the one the host named', { loadedKcv: loaded.kcv, hostKcv: answer.kcv });
        return;
      }
      log.info('PIN key loaded into the PIN pad', { kcv: loaded.kcv, version: loaded.version, previousKcv: current?.kcv ?? 'none' });
    } catch (error) {
      log.warn('the PIN pad did not get the PIN key; trying again later', { error: describe(error) });
      this.scheduleRetry();
    }
  }

  /** A pad that comes back (or loses its key, a tamper response) without one gets the key again. */
  private watchPad(): void {
    const pad = this.deps.pinPad();
    if (!pad || this.watched === pad) return;
    this.watched = pad;
    pad.on('unavailable', (event) => {
      if (event.reason === NO_PIN_KEY_REASON) this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.hostKcv !== undefined) void this.refresh(this.hostKcv);
    }, this.deps.retryMs ?? PIN_KEY_RETRY_MS);
    this.retryTimer.unref();
  }
}
