// How long the customer waited at the steps that matter, as the kiosk measured them (bench/kiosk.ts reads
// them; the controller also emits each as a 'timing' event).

export interface KioskTiming {
  readonly name: 'pin-enter-to-menu' | 'withdraw-confirm-to-cash' | 'password-submit-to-menu';
  readonly ms: number;
}

/** A kiosk runs for months: only the latest timings are kept. */
export const TIMINGS_KEPT_MAX = 1_000;

export class KioskTimings {
  /** Oldest first. */
  readonly all: KioskTiming[] = [];

  constructor(private readonly onTiming: (timing: KioskTiming) => void) {}

  record(name: KioskTiming['name'], ms: number): void {
    const timing = { name, ms };
    this.all.push(timing);
    if (this.all.length > TIMINGS_KEPT_MAX) this.all.splice(0, this.all.length - TIMINGS_KEPT_MAX);
    this.onTiming(timing);
  }
}
