// What is ccTalk's own in sending a command: write a frame, take the next frame from the device as its
// reply, bound the wait, and resend within a budget. The order, the one-at-a-time rule, the BUSY bound and
// the NOT_OPEN refusal are the serial command queue's (serial/command-queue.ts), the one queue of every
// serial driver. ccTalk has no sequence numbers: the next frame from the device after our command is its
// reply, and a reply that arrives with no command waiting is stale.

import { SerialCommandQueue } from '../serial/command-queue.js';
import { DeviceError } from '../serial/device-error.js';
import { createDeferred, waitAtMost, type Deferred } from '../serial/deferred.js';
import type { CcTalkFrame } from './cctalk-frame.js';

export interface CommandExchangeLimits {
  /** Wait for the reply to one send. */
  replyTimeoutMs: number;
  /** Commands waiting or in progress; more means something upstream is looping. */
  maxQueuedCommands: number;
}

export interface CommandRequest<T> {
  /** The encoded frame; resent unchanged on retry. */
  frame: Uint8Array;
  /** Sends in all (1 = never resent). Only commands that are safe to repeat get more than one. */
  attempts: number;
  /** Turns the reply into a value; a throw makes this send a failed attempt (a stale or foreign reply). */
  parse: (reply: CcTalkFrame) => T;
  /** For error messages. */
  name: string;
}

export interface CommandExchangeStats {
  sends: number;
  retransmissions: number;
  replyTimeouts: number;
  unparsableReplies: number;
  staleReplies: number;
}

export class CcTalkCommandExchange {
  private readonly queue: SerialCommandQueue;
  private waiting: Deferred<CcTalkFrame | 'closed'> | undefined;
  private closed = false;
  readonly stats: CommandExchangeStats = { sends: 0, retransmissions: 0, replyTimeouts: 0, unparsableReplies: 0, staleReplies: 0 };

  constructor(
    private readonly write: (frame: Uint8Array) => Promise<void>,
    private readonly limits: CommandExchangeLimits,
  ) {
    this.queue = new SerialCommandQueue({ device: 'note acceptor', commandNoun: 'commands', maxQueued: limits.maxQueuedCommands, isOpen: () => !this.closed });
  }

  /** Commands waiting or in progress. */
  get queued(): number {
    return this.queue.queued;
  }

  /** Runs the command after those given before it. Throws DeviceError: BUSY, NOT_OPEN,
   *  NOTE_ACCEPTOR_NO_REPLY, NOTE_ACCEPTOR_BAD_REPLY, a DeviceError thrown by `parse`, or the write's own. */
  run<T>(request: CommandRequest<T>): Promise<T> {
    return this.queue.run(() => this.exchange(request));
  }

  /** A frame for us from the device. */
  deliver(frame: CcTalkFrame): void {
    const waiting = this.waiting;
    if (!waiting || waiting.settled) {
      this.stats.staleReplies += 1;
      return;
    }
    waiting.resolve(frame);
  }

  /** Fails the command in progress and every later one with NOT_OPEN. Unlike the queue, which lets a
   *  running command finish, this cuts the wait for a reply short: nothing more will be read from a
   *  closed port, and nothing follows on this exchange. */
  close(): void {
    this.closed = true;
    this.waiting?.resolve('closed');
  }

  private async exchange<T>(request: CommandRequest<T>): Promise<T> {
    let lastProblem = 'no reply';
    let unparsable = false;
    for (let attempt = 1; attempt <= request.attempts; attempt++) {
      if (this.closed) throw new DeviceError('NOT_OPEN', 'the note acceptor driver is not open');
      if (attempt > 1) this.stats.retransmissions += 1;
      const waiting = createDeferred<CcTalkFrame | 'closed'>();
      this.waiting = waiting;
      try {
        this.stats.sends += 1;
        await this.write(request.frame);
        const reply = await waitAtMost(waiting.promise, this.limits.replyTimeoutMs);
        if (reply.timedOut) {
          this.stats.replyTimeouts += 1;
          lastProblem = `no reply within ${this.limits.replyTimeoutMs} ms`;
          unparsable = false;
          continue;
        }
        if (reply.value === 'closed') throw new DeviceError('NOT_OPEN', 'the note acceptor driver was closed');
        try {
          return request.parse(reply.value);
        } catch (error) {
          if (error instanceof DeviceError) throw error;
          this.stats.unparsableReplies += 1;
          lastProblem = error instanceof Error ? error.message : String(error);
          unparsable = true;
        }
      } finally {
        if (this.waiting === waiting) this.waiting = undefined;
      }
    }
    const code = unparsable ? 'NOTE_ACCEPTOR_BAD_REPLY' : 'NOTE_ACCEPTOR_NO_REPLY';
    throw new DeviceError(code, `${request.name}: ${lastProblem} (${request.attempts} attempt${request.attempts === 1 ? '' : 's'})`);
  }
}
