// Hostile inputs for the fuzz scenarios, drawn from the seeded random source: arbitrary JSON values with
// the edge cases parsers trip on (huge and fractional numbers, -0, lone surrogates, `__proto__` keys, deep
// nesting, long strings), structure-aware mutations of valid documents (a field dropped, retyped, nudged
// or added), and byte-level mutations of encoded frames (flipped, inserted and deleted bytes, a rewritten
// length prefix).
import type { SeededRandom } from './seeded-random.js';

const EDGE_NUMBERS = [0, -0, 1, -1, 0.5, -0.5, 1e-9, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 1e308, -1e308, 100_000_000, 100_000_001, 99_999.99];
const EDGE_STRINGS = ['', ' ', '0', '-1', '1e3', 'null', 'true', '__proto__', 'constructor', 'prototype', '\u0000', '\ud800', '\udfff', '\ufeff', 'é', '😀', '../../etc/passwd', '%s%n', 'acc_0000000000000000', 'auth_000000000000000000000000', '0123456789abcdef0123456789abcdef', '0123456789ABCDEF0123456789ABCDEF', 'ping', 'withdraw.authorize', 'a'.repeat(65), '9'.repeat(19), '9'.repeat(20)];
const KEYS = ['v', 'id', 'ts', 'type', 'body', 'accountId', 'amountCents', 'dispensedCents', 'authorizationId', 'username', 'password', 'pan', 'pinBlock', 'fromAccountId', 'toAccountId', 'limit', 'cursor', 'sinceMs', 'untilMs', 'kinds', 'actions', '__proto__', 'constructor', 'extra'];

export function randomString(random: SeededRandom): string {
  const roll = random.next();
  if (roll < 0.4) return random.pick(EDGE_STRINGS);
  if (roll < 0.6) return random.bytes(random.int(0, 24)).toString('hex');
  if (roll < 0.8) {
    let text = '';
    const length = random.int(0, 40);
    for (let i = 0; i < length; i++) text += String.fromCharCode(random.chance(0.8) ? random.int(0x20, 0x7e) : random.int(0, 0xffff));
    return text;
  }
  if (roll < 0.97) return random.pick(['x', '0', 'é', '\ud83d']).repeat(random.int(60, 300));
  return 'y'.repeat(random.int(10_000, 70_000));
}

export function randomNumber(random: SeededRandom): number {
  const roll = random.next();
  if (roll < 0.5) return random.pick(EDGE_NUMBERS);
  if (roll < 0.8) return random.int(-1_000_000, 200_000_000);
  return (random.next() - 0.5) * 10 ** random.int(0, 30);
}

/** Any JSON value, at most `depth` levels of nesting. */
export function randomJson(random: SeededRandom, depth = 3): unknown {
  const roll = random.next();
  if (roll < 0.1) return null;
  if (roll < 0.2) return random.chance(0.5);
  if (roll < 0.45) return randomNumber(random);
  if (roll < 0.7 || depth <= 0) return randomString(random);
  if (roll < 0.85) return Array.from({ length: random.int(0, 5) }, () => randomJson(random, depth - 1));
  return randomObject(random, depth - 1);
}

export function randomObject(random: SeededRandom, depth = 2): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = random.int(0, 5); i > 0; i--) {
    // defineProperty: a plain assignment to `__proto__` would set the prototype, not a key, and the
    // point is to send the key itself, as JSON.parse would produce it.
    Object.defineProperty(object, random.chance(0.8) ? random.pick(KEYS) : randomString(random), { value: randomJson(random, depth), enumerable: true, writable: true, configurable: true });
  }
  return object;
}

/** Text nested `levels` deep: `[[[…]]]` or `{"a":{"a":…}}`, which recursive parsers and walkers choke on. */
export function deeplyNested(levels: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(levels) + ']'.repeat(levels) : '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

function nudge(random: SeededRandom, value: unknown): unknown {
  if (typeof value === 'number') return random.pick([value + 1, value - 1, -value, value * 100, value + 0.5, value * 2 ** 30, String(value), randomNumber(random)]);
  if (typeof value === 'string') {
    const roll = random.next();
    if (roll < 0.25) return value.slice(0, random.int(0, value.length));
    if (roll < 0.5) return value + randomString(random).slice(0, 4);
    if (roll < 0.65) return value.toUpperCase();
    if (roll < 0.8 && value.length > 0) {
      const at = random.int(0, value.length - 1);
      return value.slice(0, at) + String.fromCharCode(random.int(0, 0xffff)) + value.slice(at + 1);
    }
    return Number(value) || randomString(random);
  }
  if (Array.isArray(value)) return random.chance(0.5) ? [...value, randomJson(random, 1)] : value.slice(1);
  return randomJson(random, 2);
}

/** A copy of `document` with 1 to `maxMutations` structure-aware changes, anywhere in its tree. */
export function mutateDocument(random: SeededRandom, document: unknown, maxMutations = 3): unknown {
  let result = structuredClone(document);
  for (let i = random.int(1, maxMutations); i > 0; i--) result = mutateOnce(random, result, 0);
  return result;
}

function mutateOnce(random: SeededRandom, value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || random.chance(depth === 0 ? 0.05 : 0.15)) {
    return random.chance(0.6) ? nudge(random, value) : randomJson(random, 2);
  }
  if (Array.isArray(value)) {
    if (value.length === 0 || random.chance(0.3)) return nudge(random, value);
    const copy = [...value];
    const at = random.int(0, copy.length - 1);
    copy[at] = mutateOnce(random, copy[at], depth + 1);
    return copy;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  const roll = random.next();
  if (roll < 0.2 && keys.length > 0) {
    const { [random.pick(keys)]: _dropped, ...rest } = object;
    return rest;
  }
  if (roll < 0.35) {
    const copy = { ...object };
    Object.defineProperty(copy, random.chance(0.7) ? random.pick(KEYS) : randomString(random), { value: randomJson(random, 2), enumerable: true, writable: true, configurable: true });
    return copy;
  }
  if (keys.length === 0) return randomObject(random);
  const key = random.pick(keys);
  return { ...object, [key]: mutateOnce(random, object[key], depth + 1) };
}

/** Byte-level damage to an encoded frame (or any bytes). */
export function mutateBytes(random: SeededRandom, bytes: Buffer): Buffer {
  let out = Buffer.from(bytes);
  for (let i = random.int(1, 4); i > 0; i--) {
    const roll = random.next();
    if (roll < 0.3 && out.length > 0) {
      const at = random.int(0, out.length - 1);
      out[at] = out[at]! ^ (1 << random.int(0, 7));
    } else if (roll < 0.5 && out.length > 0) {
      out[random.int(0, out.length - 1)] = random.int(0, 255);
    } else if (roll < 0.65) {
      const at = random.int(0, out.length);
      out = Buffer.concat([out.subarray(0, at), random.bytes(random.int(1, 8)), out.subarray(at)]);
    } else if (roll < 0.8 && out.length > 0) {
      const at = random.int(0, out.length - 1);
      out = Buffer.concat([out.subarray(0, at), out.subarray(at + random.int(1, 8))]);
    } else if (out.length >= 4) {
      out.writeUInt32BE(random.pick([0, 1, out.length - 4, out.length - 3, out.length + 100, 65_536, 65_537, 0x7fffffff, 0xffffffff, random.uint32()]), 0);
    }
  }
  return out;
}

/** Splits bytes into 1 to 6 chunks at random points, as TCP may deliver them. */
export function randomChunks(random: SeededRandom, bytes: Buffer): Buffer[] {
  const cuts = Array.from({ length: random.int(0, Math.min(5, bytes.length)) }, () => random.int(0, bytes.length)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(last, cut));
    last = cut;
  }
  return chunks.filter((c) => c.length > 0);
}
