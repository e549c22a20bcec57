// Where HID input reports come from. The drivers see only this interface, so the same driver code runs
// over node-hid on the kiosk and over a simulated source in development and tests.

export interface HidReportListener {
  onReport(report: Buffer): void;
  /** The device failed (usually: unplugged). No report follows; the driver closes and reopens. */
  onError(error: Error): void;
}

export interface OpenHidDevice {
  close(): Promise<void>;
}

export interface HidDeviceSource {
  /** Opens the device and starts delivering reports to `listener`. Rejects if the device is absent. */
  open(listener: HidReportListener): Promise<OpenHidDevice>;
  /** For messages: which device this is, never anything read from it. */
  readonly description: string;
}

export type HidDeviceSelector =
  /** A hidraw path (`/dev/hidraw3`, or a udev symlink such as `/dev/atm-pin-pad`): stable across
   *  reboots when a udev rule names it, and the only way to tell two identical devices apart. */
  | { path: string }
  | { vendorId: number; productId: number };

/** node-hid (hidapi, hidraw backend on Linux). node-hid is loaded on first open, so that modules which
 *  only decode reports (and their tests) never load the native addon. */
export class NodeHidDeviceSource implements HidDeviceSource {
  readonly description: string;

  constructor(private readonly selector: HidDeviceSelector) {
    this.description =
      'path' in selector
        ? `HID device ${selector.path}`
        : `HID device ${hex4(selector.vendorId)}:${hex4(selector.productId)}`;
  }

  async open(listener: HidReportListener): Promise<OpenHidDevice> {
    const { default: nodeHid } = await import('node-hid');
    // Passed explicitly so a changed default cannot change it: on macOS this seizes the device. Linux
    // hidraw has no exclusive open; there the udev rule (group atm-kiosk, mode 0660, evdev node hidden
    // from libinput) is what keeps PIN digits away from every other reader.
    const options = { nonExclusive: false };
    const device =
      'path' in this.selector
        ? await nodeHid.HIDAsync.open(this.selector.path, options)
        : await nodeHid.HIDAsync.open(this.selector.vendorId, this.selector.productId, options);
    let closed = false;
    device.on('data', (data: Buffer) => {
      if (!closed) listener.onReport(data);
    });
    device.on('error', (error: unknown) => {
      if (closed) return;
      closed = true;
      listener.onError(error instanceof Error ? error : new Error(String(error)));
    });
    return {
      close: async () => {
        closed = true;
        device.removeAllListeners('data');
        await device.close();
      },
    };
  }
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, '0');
}

/** A device that exists only in memory: `sendReports` delivers reports as the hardware would,
 *  `unplug` fails the open device and makes opens fail, `plugIn` makes it openable again. Used by the
 *  simulators (development without hardware) and by the driver tests. */
export class SimulatedHidDeviceSource implements HidDeviceSource {
  readonly description: string;
  private listener: HidReportListener | undefined;
  private present = true;
  openCount = 0;

  constructor(description = 'simulated HID device') {
    this.description = description;
  }

  get isOpen(): boolean {
    return this.listener !== undefined;
  }

  async open(listener: HidReportListener): Promise<OpenHidDevice> {
    if (!this.present) throw new Error(`${this.description} is not present`);
    if (this.listener) throw new Error(`${this.description} is already open`);
    this.openCount++;
    this.listener = listener;
    return {
      close: async () => {
        if (this.listener === listener) this.listener = undefined;
      },
    };
  }

  sendReports(reports: readonly Buffer[]): void {
    for (const report of reports) {
      if (!this.listener) throw new Error(`${this.description} is not open`);
      this.listener.onReport(report);
    }
  }

  unplug(): void {
    this.present = false;
    const listener = this.listener;
    this.listener = undefined;
    listener?.onError(new Error('could not read from HID device'));
  }

  plugIn(): void {
    this.present = true;
  }
}
