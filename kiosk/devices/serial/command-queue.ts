// The one command queue of the serial drivers: a serial device answers one command at a time, so each
// driver runs its commands through this, one after another in the order they were given.
//
// Bounds: at most `maxQueued` commands waiting or running (more means something upstream is looping), and
// no command starts on a closed driver. There is deliberately no timeout here: every command bounds its own
// waits (ACK, response, write, status), and a queue that gave up on a running command would let the next one
// onto the line while the device may still be executing the first (a dispense still moving notes).

import { DeviceError } from './device-error.js';

export interface SerialCommandQueueOptions {
  /** The device, as errors name it: 'dispenser', 'printer'. */
  readonly device: string;
  /** What one command is called in the BUSY message: 'commands', 'jobs'. */
  readonly commandNoun: string;
  readonly maxQueued: number;
  /** Whether the driver's serial link is open; asked when a command is given and when its turn comes. */
  readonly isOpen: () => boolean;
}

export class SerialCommandQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private count = 0;

  constructor(private readonly options: SerialCommandQueueOptions) {
    if (!Number.isSafeInteger(options.maxQueued) || options.maxQueued < 1) throw new RangeError('maxQueued must be a positive integer');
  }

  /** Commands waiting or running. */
  get queued(): number {
    return this.count;
  }

  /** Runs `work` once every command given before it has finished (succeeded or failed). Refused at once
   *  with NOT_OPEN on a closed driver and with BUSY when `maxQueued` are already waiting or running; a
   *  command whose turn comes after the driver closed fails with NOT_OPEN without being run. */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.options.isOpen()) return Promise.reject(this.notOpen());
    if (this.count >= this.options.maxQueued) {
      return Promise.reject(new DeviceError('BUSY', `${this.count} ${this.options.device} ${this.options.commandNoun} already queued`));
    }
    this.count += 1;
    const run = this.tail
      .then(() => {
        if (!this.options.isOpen()) throw this.notOpen();
        return work();
      })
      .finally(() => {
        this.count -= 1;
      });
    // The chain must survive a failed command; the caller sees the failure through `run`.
    this.tail = run.catch(() => {});
    return run;
  }

  private notOpen(): DeviceError {
    return new DeviceError('NOT_OPEN', `the ${this.options.device} driver is not open`);
  }
}
