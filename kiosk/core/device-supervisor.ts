// Which of the kiosk's four devices can serve, and why not. It listens to the drivers' availability and
// runs the health check of the serial devices (open what is closed, ask for status) that the controller
// schedules, never while a customer's transaction is using the line. The card reader, PIN pad and dispenser
// are required: their problems are out-of-service reasons. The printer is not: without it the customer is
// just not offered a receipt. It also keeps what the dispenser last said of its cassettes (the fast-cash
// offers follow it) and what the printer last said of its paper.
import { describe } from '../common/errors.js';
import type { CassetteStock } from '../../protocol/note-plan.js';
import type { PrinterStatus } from '../devices/printer/types.js';
import type { KioskDevices } from './devices.js';

export type DeviceName = 'card-reader' | 'pin-pad' | 'dispenser' | 'printer';

export interface DeviceSupervisorDeps {
  /** The cassettes as configured: the denominations the dispenser must report, and the counts until it does. */
  readonly configuredCassettes: readonly CassetteStock[];
  /** False while a customer's transaction uses the serial lines or the kiosk is stopping: no check then. */
  readonly mayCheck: () => boolean;
  /** A device's state changed: the service state may have too. */
  readonly onChange: () => void;
}

export class DeviceSupervisor {
  private readonly problems = new Map<DeviceName, string>();
  private stock: CassetteStock[];
  private printerStatus: PrinterStatus | undefined;
  private devices: KioskDevices | undefined;
  private checking = false;

  constructor(private readonly deps: DeviceSupervisorDeps) {
    this.stock = deps.configuredCassettes.map((c) => ({ ...c }));
  }

  /** Starts listening to the drivers' availability; returns the functions that stop listening. */
  watch(devices: KioskDevices): (() => void)[] {
    this.devices = devices;
    const { cardReader, pinPad, dispenser, printer } = devices;
    this.setProblem('card-reader', cardReader.isAvailable ? undefined : 'not connected');
    this.setProblem('pin-pad', pinPad.isAvailable ? undefined : 'not connected');
    this.setProblem('dispenser', 'not open');
    return [
      cardReader.on('available', () => this.setProblem('card-reader', undefined)),
      cardReader.on('unavailable', (event) => this.setProblem('card-reader', event.reason)),
      pinPad.on('available', () => this.setProblem('pin-pad', undefined)),
      pinPad.on('unavailable', (event) => this.setProblem('pin-pad', event.reason)),
      dispenser.onAvailabilityChange((change) => this.setProblem('dispenser', change.availability === 'available' ? undefined : change.reason)),
      printer.onAvailabilityChange((availability, reason) => {
        if (availability !== 'available') this.printerStatus = undefined;
        this.setProblem('printer', availability === 'available' ? undefined : reason);
      }),
    ];
  }

  /** Opens what is closed and asks each serial device for its status. */
  async check(): Promise<void> {
    if (this.checking || !this.devices || !this.deps.mayCheck()) return;
    this.checking = true;
    const { dispenser, printer } = this.devices;
    try {
      try {
        if (dispenser.availability === 'closed') await dispenser.open();
        const status = await dispenser.status();
        const configured = this.deps.configuredCassettes.map((c) => c.denominationCents).join(',');
        const reported = status.cassettes.map((c) => c.denominationCents).join(',');
        if (configured !== reported) {
          this.problems.set('dispenser', `cassette denominations ${reported} differ from the configuration (${configured})`);
        } else if (status.state === 'error') {
          this.problems.set('dispenser', `in error state (${status.error ?? 'unspecified'}); a technician must clear it`);
        } else {
          this.problems.delete('dispenser');
          this.stock = status.cassettes.map((c) => ({ denominationCents: c.denominationCents, count: c.count }));
        }
      } catch (error) {
        this.problems.set('dispenser', describe(error));
      }
      try {
        if (printer.availability === 'closed') await printer.open();
        this.printerStatus = await printer.status();
        this.problems.delete('printer');
      } catch (error) {
        this.printerStatus = undefined;
        this.problems.set('printer', describe(error));
      }
    } finally {
      this.checking = false;
      this.deps.onChange();
    }
  }

  /** One out-of-service reason per required device that cannot serve: 'dispenser: not open', … */
  reasons(): string[] {
    const reasons: string[] = [];
    for (const [device, problem] of this.problems) if (device !== 'printer') reasons.push(`${device}: ${problem}`);
    return reasons;
  }

  get dispenserReady(): boolean {
    return !this.problems.has('dispenser');
  }

  /** What the dispenser last reported it holds (the configuration until it has answered). */
  get cassettes(): readonly CassetteStock[] {
    return this.stock;
  }

  noteCassettes(cassettes: CassetteStock[]): void {
    this.stock = cassettes;
  }

  /** The printer answers, is online and has paper: a receipt may be offered. */
  printerReady(): boolean {
    const status = this.printerStatus;
    return this.devices?.printer.availability === 'available' && status !== undefined && status.online && status.paper !== 'out';
  }

  notePrinterStatus(status: PrinterStatus | undefined): void {
    this.printerStatus = status;
  }

  private setProblem(device: DeviceName, reason: string | undefined): void {
    if (reason === undefined) this.problems.delete(device);
    else this.problems.set(device, reason);
    this.deps.onChange();
  }
}
