// A Bloom filter over database keys: says "certainly absent" or "maybe present". The database keeps one
// for namespaces that are looked up far more often than they hold the key asked for (every request's
// idempotency record is looked up, and almost every request is new), so that a lookup of an absent key
// costs a few hashes instead of a LevelDB read. It never says "absent" for a key that was added, so a
// "maybe" is always followed by the real read; a false "maybe" costs that read and nothing else.

/** Bits per expected key: with 7 hash functions, about 1 % false "maybe" at capacity. */
const BITS_PER_KEY = 10;
const HASH_FUNCTIONS = 7;

export class PresenceFilter {
  private readonly bits: Uint32Array;
  private readonly bitCount: number;
  /** Keys added since the filter was made (a key added twice counts twice). */
  added = 0;

  /** `capacity` keys keep the false-"maybe" rate near 1 %; past it the rate grows (and the owner rebuilds). */
  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`filter capacity must be a positive integer, got ${capacity}`);
    this.bitCount = Math.ceil((capacity * BITS_PER_KEY) / 32) * 32;
    this.bits = new Uint32Array(this.bitCount / 32);
  }

  add(key: string): void {
    this.added++;
    const [h1, h2] = hashPair(key);
    for (let i = 0; i < HASH_FUNCTIONS; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const index = bit % this.bitCount;
      this.bits[index >>> 5]! |= 1 << (index & 31);
    }
  }

  /** False only for a key that was never added. */
  mightContain(key: string): boolean {
    const [h1, h2] = hashPair(key);
    for (let i = 0; i < HASH_FUNCTIONS; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const index = bit % this.bitCount;
      if ((this.bits[index >>> 5]! & (1 << (index & 31))) === 0) return false;
    }
    return true;
  }

  get saturated(): boolean {
    return this.added > this.capacity;
  }
}

/** Two independent 32-bit hashes of the key's UTF-16 code units (FNV-1a, and a murmur-style multiply with
 *  a final mix), combined as h1 + i·h2 for the i-th bit (Kirsch and Mitzenmacher). h2 is odd so the bits
 *  differ. Not a defence against chosen keys: a sender who picks colliding ids only causes extra reads. */
function hashPair(key: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  h2 = Math.imul(h2 ^ (h2 >>> 15), 0x85ebca6b);
  h2 ^= h2 >>> 13;
  return [h1 >>> 0, (h2 | 1) >>> 0];
}
