// Serializes work on the same keys (accounts, cards, request ids). Two withdrawals on one account never
// interleave; work on different accounts runs concurrently and shares group commits.

export class KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` while holding every lock in `keys`. Locks are taken in sorted order so two callers
   *  needing overlapping sets cannot deadlock. */
  async withLocks<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of unique) releases.push(await this.acquire(key));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  get heldCount(): number {
    return this.tails.size;
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      // Drop the entry when nobody queued behind us, so the map holds only contended keys.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
