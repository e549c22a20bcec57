// The run parameters of the reliability scenarios and the one random source they draw from. Every fault,
// kill moment, mutation and amount comes from a PRNG seeded by RELIABILITY_SEED, so a failing run can be
// repeated with the seed it printed. (Timing on a loaded machine still varies between runs; the seed
// fixes what is injected, not when the host happens to be in which state.)

/** The seed when RELIABILITY_SEED is not set: fixed, so the default run is the same run every time. */
export const DEFAULT_RELIABILITY_SEED = 20_240_917;

export interface ReliabilityParams {
  readonly seed: number;
  /** Multiplies every scenario's iteration count; 1 is the short run that `npm test` includes. */
  readonly scale: number;
}

function readPositiveNumber(name: string, fallback: number, integer: boolean): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function reliabilityParams(): ReliabilityParams {
  return {
    seed: readPositiveNumber('RELIABILITY_SEED', DEFAULT_RELIABILITY_SEED, true),
    scale: readPositiveNumber('RELIABILITY_SCALE', 1, false),
  };
}

/** `base` iterations at scale 1, scaled and rounded, never below 1. */
export function scaled(base: number, params: ReliabilityParams = reliabilityParams()): number {
  return Math.max(1, Math.round(base * params.scale));
}

/** An integer count from the environment (for parameters that are not simply scaled), or `fallback`. */
export function countFromEnv(name: string, fallback: number): number {
  return readPositiveNumber(name, fallback, true);
}

/** SplitMix32-seeded xoshiro128**: small, fast, and good enough for choosing faults (not for keys). */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number, stream = 0) {
    let x = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 2 ** 32;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.uint32() & 0xff;
    return out;
  }

  /** A child stream, so adding draws in one part of a scenario does not shift another part's draws. */
  fork(stream: number): SeededRandom {
    return new SeededRandom(this.uint32(), stream);
  }
}

function rotl(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}
