// Which of the kiosk's devices can serve, and why not. It listens to the drivers' availability and runs the
// health check of the serial devices (open what is closed, ask for status) that the controller schedules,
// never while a customer's transaction is using the line. The card reader, PIN pad and dispenser are
// required: their problems are out-of-service reasons. The printer and the note acceptor are not: without
// the printer the customer is just not offered a receipt, without the acceptor no deposit. It also keeps
// what the dispenser last said of its cassettes (the fast-cash offers follow it), what the printer last
// said of its paper, and which notes the acceptor takes: the configured ones, once the acceptor has shown
// it knows them all. The acceptor is disabled (master inhibit) when it is found, so that it takes no note
// outside a deposit.
import { describe } from '../common/errors.js';
import type { CassetteStock } from '../../protocol/note-plan.js';
import type { PrinterStatus } from '../devices/printer/types.js';
import type { KioskDeviceName } from '../../protocol/messages.js';
import type { KioskDevices } from './devices.js';

export type DeviceName = KioskDeviceName;

/** One device as the kiosk's status report gives it. */
export interface DeviceState {
  readonly device: DeviceName;
  readonly state: 'ok' | 'fault' | 'absent';
  readonly detail?: string;
}

export interface DeviceSupervisorDeps {
  /** The cassettes as configured: the denominations the dispenser must report, and the counts until it does. */
  readonly configuredCassettes: readonly CassetteStock[];
  /** The notes the acceptor is configured to take: the acceptor must know each of them. */
  readonly configuredAcceptorCents: readonly number[];
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
  /** The check in flight, if any: one at a time, and the kiosk's stop waits for it. */
  private running: Promise<void> | undefined;
  /** The kiosk is stopping: no check starts, and one in flight opens nothing more. */
  private stopped = false;
  /** The acceptor answered and knows every configured note (reset when it stops answering). */
  private acceptorVerified = false;

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
    const { noteAcceptor } = devices;
    if (noteAcceptor) this.setProblem('note-acceptor', 'not open');
    return [
      ...(noteAcceptor
        ? [
            noteAcceptor.onAvailabilityChange((change) => {
              // Back from an outage: its notes are checked again (and it is disabled again) before a deposit.
              if (change.availability !== 'available') this.acceptorVerified = false;
              this.setProblem('note-acceptor', change.availability === 'available' && this.acceptorVerified ? undefined : change.availability === 'available' ? 'not yet checked' : change.reason);
            }),
          ]
        : []),
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
  check(): Promise<void> {
    if (this.running !== undefined || this.stopped || !this.devices || !this.deps.mayCheck()) return Promise.resolve();
    const running = this.checkDevices(this.devices).finally(() => {
      this.running = undefined;
    });
    this.running = running;
    return running;
  }

  /** Stops checking: waits for a check in flight (its device calls are bounded by the drivers' timeouts),
   *  which opens nothing once stopping. Before the kiosk closes the devices: a check still running after
   *  the close would open a port again, and hold it (and its lock) after the kiosk stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async checkDevices(devices: KioskDevices): Promise<void> {
    const { dispenser, printer } = devices;
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
      if (this.stopped) return;
      try {
        if (printer.availability === 'closed') await printer.open();
        this.printerStatus = await printer.status();
        this.problems.delete('printer');
      } catch (error) {
        this.printerStatus = undefined;
        this.problems.set('printer', describe(error));
      }
      if (devices.noteAcceptor && !this.stopped) await this.checkAcceptor(devices.noteAcceptor);
    } finally {
      if (!this.stopped) this.deps.onChange();
    }
  }

  /** Opens the acceptor if closed; once it answers, checks that it knows every configured note and
   *  disables it: outside a deposit it takes nothing. */
  private async checkAcceptor(acceptor: NonNullable<KioskDevices['noteAcceptor']>): Promise<void> {
    try {
      if (acceptor.availability === 'closed') await acceptor.open();
      if (acceptor.availability !== 'available') {
        this.acceptorVerified = false;
        return;
      }
      if (this.acceptorVerified) return;
      // Disabled first, whatever its notes: a kiosk that stopped mid-deposit left it taking notes.
      await acceptor.disable();
      const table = await acceptor.denominations();
      const missing = this.deps.configuredAcceptorCents.filter((cents) => !table.some((d) => d.valueCents === cents));
      if (missing.length > 0) {
        const known = [...new Set(table.map((d) => d.valueCents))].sort((a, b) => a - b);
        this.problems.set('note-acceptor', `it does not know the configured notes ${missing.join(', ')} cents (it knows ${known.join(', ') || 'none'}); check noteAcceptorCents and the validator's dataset`);
        return;
      }
      this.acceptorVerified = true;
      this.problems.delete('note-acceptor');
    } catch (error) {
      this.acceptorVerified = false;
      this.problems.set('note-acceptor', describe(error));
    }
  }

  /** One out-of-service reason per required device that cannot serve: 'dispenser: not open', … */
  reasons(): string[] {
    const reasons: string[] = [];
    for (const [device, problem] of this.problems) if (!OPTIONAL_DEVICES.has(device)) reasons.push(`${device}: ${problem}`);
    return reasons;
  }

  /** The problems of the devices the kiosk serves without (printer, note acceptor), for its status. */
  optionalReasons(): string[] {
    const reasons: string[] = [];
    for (const [device, problem] of this.problems) if (OPTIONAL_DEVICES.has(device)) reasons.push(`${device}: ${problem}`);
    return reasons;
  }

  /** Every device and whether it can serve, for the kiosk's status report. */
  deviceStates(): DeviceState[] {
    const devices = this.devices;
    const names: DeviceName[] = ['card-reader', 'pin-pad', 'dispenser', 'printer', 'note-acceptor'];
    return names.map((device) => {
      if (device === 'note-acceptor' && !devices?.noteAcceptor) return { device, state: 'absent' };
      const problem = this.problems.get(device);
      return problem === undefined ? { device, state: 'ok' } : { device, state: 'fault', detail: problem };
    });
  }

  /** The note acceptor answers, knows the configured notes and has no fault: a deposit may start. */
  get acceptorReady(): boolean {
    const acceptor = this.devices?.noteAcceptor;
    return acceptor !== undefined && acceptor.availability === 'available' && this.acceptorVerified && !this.problems.has('note-acceptor');
  }

  /** The acceptor is configured, and answering (whatever its notes): recovery may ask it its counter. */
  get acceptorAnswering(): boolean {
    return this.devices?.noteAcceptor?.availability === 'available';
  }

  /** A deposit ended for a fault of the acceptor that it does not latch (fraud, lost events, a reset):
   *  its notes are checked again, and it is disabled, before the next deposit. */
  recheckAcceptor(reason: string): void {
    this.acceptorVerified = false;
    this.setProblem('note-acceptor', reason);
  }

  /** What the printer last said of its paper. */
  get receiptPaper(): 'ok' | 'low' | 'out' | 'unknown' {
    const paper = this.printerStatus?.paper;
    return paper === undefined ? 'unknown' : paper === 'near-end' ? 'low' : paper;
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

const OPTIONAL_DEVICES: ReadonlySet<DeviceName> = new Set(['printer', 'note-acceptor']);
