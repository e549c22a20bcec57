// Refused handshakes, in the audit log as summaries. A handshake the host refused proved nothing: not the
// device id it claimed (anyone can claim one, and a ClientHello recorded from a real kiosk replays with its
// id and a valid binder), nor a revoked or replaced key. So each refusal is counted (the channel's stats),
// but the audit log gets, per reason, at most one record per interval: the first refusal after a quiet
// interval at once, then one summary at the end of each interval that had more, with the count and the
// interval. A flood of strangers grows the log with time, not with the number of handshakes. No record
// carries a device id; the registered ids that were claimed are listed as claimed, for an operator to see
// which kiosks an attacker names (ids nobody registered are only counted).
import type { Logger } from '../../protocol/log.js';
import type { AuditEvent } from '../audit/event.js';

/** Per reason, at most one audit record per this long. */
export const REFUSAL_SUMMARY_INTERVAL_MS = 60_000;
/** Bounds what one summary lists (the count is exact). */
const CLAIMED_IDS_MAX = 8;
const REMOTE_ADDRESSES_MAX = 8;

interface Window {
  readonly openedMs: number;
  readonly timer: NodeJS.Timeout;
  count: number;
  readonly claimed: Set<string>;
  readonly remotes: Set<string>;
}

export class RefusalSummaries<Reason extends string> {
  private readonly windows = new Map<Reason, Window>();

  constructor(
    private readonly record: (event: AuditEvent) => void,
    private readonly log: Logger,
    private readonly intervalMs: number = REFUSAL_SUMMARY_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** One refused handshake. `claimedRegisteredId` is the id it claimed, only when a device is registered
   *  under it; `remote` its address (for the log, never the audit record). */
  refused(reason: Reason, claimedRegisteredId: string | undefined, remote: string | undefined): void {
    const window = this.windows.get(reason);
    if (window === undefined) {
      // The first after a quiet interval is recorded at once; the interval starts now.
      const nowMs = this.now();
      this.write(reason, 1, nowMs, nowMs, new Set(claimedRegisteredId ? [claimedRegisteredId] : []), new Set(remote ? [remote] : []));
      this.open(reason);
      return;
    }
    window.count++;
    if (claimedRegisteredId !== undefined && window.claimed.size < CLAIMED_IDS_MAX) window.claimed.add(claimedRegisteredId);
    if (remote !== undefined && window.remotes.size < REMOTE_ADDRESSES_MAX) window.remotes.add(remote);
  }

  /** Writes what is counted and not yet recorded (the host is stopping). */
  flush(): void {
    for (const [reason, window] of this.windows) {
      clearTimeout(window.timer);
      if (window.count > 0) this.write(reason, window.count, window.openedMs, this.now(), window.claimed, window.remotes);
    }
    this.windows.clear();
  }

  private open(reason: Reason): void {
    const timer = setTimeout(() => this.close(reason), this.intervalMs);
    timer.unref();
    this.windows.set(reason, { openedMs: this.now(), timer, count: 0, claimed: new Set(), remotes: new Set() });
  }

  /** The interval ended: its refusals become one record, and the next interval starts; a quiet one ends
   *  the window, so the next refusal is recorded at once. */
  private close(reason: Reason): void {
    const window = this.windows.get(reason);
    this.windows.delete(reason);
    if (window === undefined || window.count === 0) return;
    this.write(reason, window.count, window.openedMs, this.now(), window.claimed, window.remotes);
    this.open(reason);
  }

  private write(reason: Reason, count: number, sinceMs: number, untilMs: number, claimed: ReadonlySet<string>, remotes: ReadonlySet<string>): void {
    const detail: Record<string, string | number> = { count, sinceMs, untilMs };
    if (claimed.size > 0) detail.claimed = [...claimed].join(',');
    this.log.warn('handshakes refused', { reason, count, sinceMs, untilMs, claimed: [...claimed].join(','), remotes: [...remotes].join(',') });
    this.record({ action: 'handshake', outcome: 'refused', reason, detail });
  }
}
