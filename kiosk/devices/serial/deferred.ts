// A promise resolved from outside plus a bounded wait on it: the shape of every "send, then wait for
// the device's reply" step of our serial drivers and simulators.

export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  resolve(value: T): void;
}

export function createDeferred<T>(): Deferred<T> {
  let resolveFn: (value: T) => void = () => {};
  const promise = new Promise<T>((resolve) => {
    resolveFn = resolve;
  });
  const deferred = {
    promise,
    settled: false,
    resolve(value: T) {
      if (deferred.settled) return;
      deferred.settled = true;
      resolveFn(value);
    },
  };
  return deferred;
}

export type Waited<T> = { timedOut: false; value: T } | { timedOut: true };

/** Waits for `promise` at most `timeoutMs`; a timeout is a normal outcome here, not an exception. */
export async function waitAtMost<T>(promise: Promise<T>, timeoutMs: number): Promise<Waited<T>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then((value): Waited<T> => ({ timedOut: false, value })),
      new Promise<Waited<T>>((resolve) => {
        timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleepMs(durationMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}
