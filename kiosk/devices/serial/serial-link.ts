// The one way drivers and simulators open, write and close a serial port. Every option whose default
// matters is passed explicitly so a serialport upgrade cannot change line settings under us.

import { SerialPort } from 'serialport';
import { DeviceError } from './device-error.js';

export interface SerialLinkOptions {
  path: string;
  /** Both our devices default to 9600 8N1, the factory setting of most note dispensers and printers. */
  baudRate: number;
  /** Bound on write + drain; a wedged USB adapter must not hang a dispense. */
  writeTimeoutMs: number;
  /** Bound on close; the OS can block close while output drains to a device that is gone. */
  closeTimeoutMs: number;
}

export interface SerialLinkHandlers {
  onData(bytes: Buffer): void;
  /** The port closed without our asking (cable pulled, adapter reset). */
  onUnexpectedClose(error: Error | undefined): void;
}

/** Largest single write we accept: a full receipt is a few KB; anything larger is a bug upstream. */
export const MAX_WRITE_BYTES = 64 * 1024;

export class SerialLink {
  private closingOnPurpose = false;
  private closed = false;

  private constructor(
    private readonly port: SerialPort,
    private readonly options: SerialLinkOptions,
  ) {}

  static async open(options: SerialLinkOptions, handlers: SerialLinkHandlers): Promise<SerialLink> {
    const port = new SerialPort({
      path: options.path,
      baudRate: options.baudRate,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: true,
      // An exclusive lock stops a second process (a stray simulator, a technician's terminal) from
      // reading half of the device's bytes.
      lock: true,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((error) => {
        if (error) reject(new DeviceError('SERIAL_OPEN_FAILED', `cannot open ${options.path}: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
    const link = new SerialLink(port, options);
    port.on('data', (bytes: Buffer) => handlers.onData(bytes));
    // Errors after open are reported through 'close' (with an error) or through failed writes; an
    // 'error' listener is still needed so an emitted error never crashes the process.
    port.on('error', () => {});
    port.on('close', (error: Error | null | undefined) => {
      link.closed = true;
      if (!link.closingOnPurpose) handlers.onUnexpectedClose(error ?? undefined);
    });
    return link;
  }

  get isOpen(): boolean {
    return !this.closed && this.port.isOpen;
  }

  get path(): string {
    return this.options.path;
  }

  /** `timeoutMs` overrides `writeTimeoutMs` for writes whose time on the wire is known to be long. */
  async write(bytes: Uint8Array, timeoutMs: number = this.options.writeTimeoutMs): Promise<void> {
    if (!this.isOpen) throw new DeviceError('SERIAL_CLOSED', `${this.options.path} is closed`);
    if (bytes.length > MAX_WRITE_BYTES) {
      throw new DeviceError('BAD_ARGUMENT', `write of ${bytes.length} bytes exceeds ${MAX_WRITE_BYTES}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      this.port.write(Buffer.from(bytes), (error) => {
        if (error) {
          reject(new DeviceError('SERIAL_WRITE_FAILED', `write to ${this.options.path} failed: ${error.message}`, { cause: error }));
          return;
        }
        this.port.drain((drainError) => {
          if (drainError) reject(new DeviceError('SERIAL_WRITE_FAILED', `drain of ${this.options.path} failed: ${drainError.message}`, { cause: drainError }));
          else resolve();
        });
      });
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DeviceError('SERIAL_WRITE_TIMEOUT', `write to ${this.options.path} did not drain within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when the port is closed or `closeTimeoutMs` has passed; never rejects. */
  async close(): Promise<void> {
    if (this.closed || !this.port.isOpen) {
      this.closed = true;
      return;
    }
    this.closingOnPurpose = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        // A close error means the fd is already gone; either way the port is unusable now.
        this.port.close(() => resolve());
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.closed = true;
  }
}
