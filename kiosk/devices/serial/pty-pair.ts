// A pair of connected pseudo-terminals made by socat, so a driver and a simulator talk over real
// ttys (termios, line discipline, kernel buffering) exactly as they would over a USB serial adapter.

import { spawn, type ChildProcess } from 'node:child_process';
import { DeviceError } from './device-error.js';

export const SOCAT_INSTALL_COMMAND = 'apt-get install -y socat';

export const DEFAULT_PTY_PAIR_LIMITS = {
  /** socat prints both paths within milliseconds; a slow CI box gets generous room. */
  startTimeoutMs: 5_000,
  /** After SIGTERM socat exits at once; past this we SIGKILL so a test run never hangs. */
  closeTimeoutMs: 2_000,
  /** socat's -d -d chatter before "starting data transfer loop" is a few hundred bytes. */
  maxStartupLogBytes: 16 * 1024,
} as const;

export type PtyPairLimits = { -readonly [K in keyof typeof DEFAULT_PTY_PAIR_LIMITS]: number };

export interface PtyPairOptions extends Partial<PtyPairLimits> {
  /** The socat executable; a full path pins it where PATH is not trusted. */
  socatCommand?: string;
}

export interface PtyPair {
  /** The end the driver opens. */
  readonly hostPath: string;
  /** The end the simulator opens. */
  readonly devicePath: string;
  /** socat's process id, for diagnostics. */
  readonly socatPid: number;
  /** Stops socat; resolves once it has exited (SIGKILL after `closeTimeoutMs`). Safe to call twice. */
  close(): Promise<void>;
}

const PTY_LINE = /PTY is (\/dev\/pts\/\d+)/g;
const READY_LINE = /starting data transfer loop/;

export async function openPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const { socatCommand = 'socat', ...limits } = options;
  const bounds: PtyPairLimits = { ...DEFAULT_PTY_PAIR_LIMITS, ...limits };
  const child = spawn(socatCommand, ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and socat dying
    // first would pull the line out from under the devices while we shut them down in order.
    detached: true,
  });
  let exited = child.exitCode !== null || child.signalCode !== null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    // A spawn failure emits 'error' and possibly no 'exit'.
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });

  const paths = await new Promise<[string, string]>((resolve, reject) => {
    let log = '';
    const fail = (error: Error) => {
      cleanup();
      killAndWait(child, exitPromise, () => exited, bounds.closeTimeoutMs).then(
        () => reject(error),
        () => reject(error),
      );
    };
    const timer = setTimeout(
      () => fail(new DeviceError('PTY_PAIR_FAILED', `socat did not report two ptys within ${bounds.startTimeoutMs} ms: ${log.trim()}`)),
      bounds.startTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.length > bounds.maxStartupLogBytes) {
        fail(new DeviceError('PTY_PAIR_FAILED', 'socat printed more startup output than expected'));
        return;
      }
      const found = [...log.matchAll(PTY_LINE)].map((m) => m[1] ?? '');
      if (found.length >= 2 && READY_LINE.test(log)) {
        cleanup();
        resolve([found[0] ?? '', found[1] ?? '']);
      }
    };
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        fail(new DeviceError('SOCAT_MISSING', `socat is not installed; install it with: ${SOCAT_INSTALL_COMMAND}`, { cause: error }));
      } else {
        fail(new DeviceError('PTY_PAIR_FAILED', `socat could not be started: ${error.message}`, { cause: error }));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      fail(new DeviceError('PTY_PAIR_FAILED', `socat exited (code ${code}, signal ${signal}) before the ptys were ready: ${log.trim()}`));
    };
    function cleanup() {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('error', onError);
      child.off('exit', onExit);
    }
    child.stderr?.on('data', onData);
    child.on('error', onError);
    child.on('exit', onExit);
  });

  // Keep draining stderr so socat never blocks on a full pipe while it runs.
  child.stderr?.on('data', () => {});
  let closing: Promise<void> | undefined;
  return {
    hostPath: paths[0],
    devicePath: paths[1],
    socatPid: child.pid ?? -1,
    close: () => (closing ??= killAndWait(child, exitPromise, () => exited, bounds.closeTimeoutMs)),
  };
}

async function killAndWait(child: ChildProcess, exitPromise: Promise<void>, hasExited: () => boolean, closeTimeoutMs: number): Promise<void> {
  if (hasExited()) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exitPromise.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), closeTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut && !hasExited()) {
    child.kill('SIGKILL');
    // SIGKILL cannot be ignored; the bound here only guards against a zombie we cannot reap.
    await Promise.race([exitPromise, new Promise((resolve) => setTimeout(resolve, closeTimeoutMs))]);
  }
}
