// Seals and chains one group commit's records. Two implementations of one definition: the native batch
// sealer (native/audit-seal.c, built by `npm run build:native`), and `sealStoredRecord` in JavaScript, the
// reference. The native one is used when it is built and agrees with the reference on a known-answer batch
// at load; otherwise the host seals in JavaScript and says why when it starts. Both produce the same bytes,
// so a log written by either verifies, and `verify` (which only MACs) is the same code for both.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AuditKeys, type AuditPlaintext, ChainMac, IV_BYTES, sealStoredRecord, storedTag } from './record.js';

export type SealerKind = 'native' | 'javascript';

export interface AuditSealer {
  readonly kind: SealerKind;
  /** Records firstSeq, firstSeq + 1, … sealed and chained from `previousTag`, as their stored values. */
  sealBatch(previousTag: Buffer, firstSeq: number, plaintexts: readonly AuditPlaintext[], ivs: Buffer): Buffer[];
}

export interface NativeSealerModule {
  sealBatch(encKey: Buffer, macKey: Buffer, previousTag: Buffer, firstSeq: number, ivs: Buffer, plaintexts: string[], offsets: Uint32Array): Buffer;
}

export const NATIVE_SEALER_FILE = 'build/audit-seal.node';
/** Set to `javascript` to seal in JavaScript even when the native sealer is built (a fallback for
 *  operators, and how the tests and the bench compare the two). */
export const SEALER_ENV = 'BANK_HOST_AUDIT_SEALER';

export function javascriptSealer(keys: AuditKeys): AuditSealer {
  const mac = new ChainMac(keys.mac);
  return {
    kind: 'javascript',
    sealBatch(previousTag, firstSeq, plaintexts, ivs) {
      checkIvs(plaintexts, ivs);
      const values: Buffer[] = [];
      let tag = previousTag;
      for (let i = 0; i < plaintexts.length; i++) {
        const value = sealStoredRecord(keys.enc, mac, tag, firstSeq + i, plaintexts[i]!, ivs.subarray(i * IV_BYTES, (i + 1) * IV_BYTES));
        tag = storedTag(value);
        values.push(value);
      }
      return values;
    },
  };
}

export function nativeSealer(keys: AuditKeys, native: NativeSealerModule): AuditSealer {
  return {
    kind: 'native',
    sealBatch(previousTag, firstSeq, plaintexts, ivs) {
      checkIvs(plaintexts, ivs);
      const offsets = new Uint32Array(plaintexts.length + 1);
      const out = native.sealBatch(keys.enc, keys.mac, previousTag, firstSeq, ivs, plaintexts.map((p) => JSON.stringify(p)), offsets);
      const values: Buffer[] = [];
      for (let i = 0; i < plaintexts.length; i++) values.push(out.subarray(offsets[i]!, offsets[i + 1]!));
      return values;
    },
  };
}

function checkIvs(plaintexts: readonly AuditPlaintext[], ivs: Buffer): void {
  if (ivs.length !== plaintexts.length * IV_BYTES) throw new Error(`sealing ${plaintexts.length} audit records takes ${plaintexts.length * IV_BYTES} bytes of IVs`);
}

export interface SealerChoice {
  readonly sealer: AuditSealer;
  /** Why the JavaScript sealer is used, when it is. */
  readonly fallbackReason?: string;
}

/** The module's path: the repository root's build/, found from this file in the sources or in dist/. */
export function nativeSealerPath(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    const candidate = path.join(dir, NATIVE_SEALER_FILE);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

let loaded: { module?: NativeSealerModule; problem?: string } | undefined;

function loadNative(): { module?: NativeSealerModule; problem?: string } {
  if (loaded) return loaded;
  const file = nativeSealerPath();
  if (file === undefined) {
    loaded = { problem: `the native sealer is not built (${NATIVE_SEALER_FILE}; run \`npm run build:native\`)` };
    return loaded;
  }
  try {
    const module = createRequire(import.meta.url)(file) as NativeSealerModule;
    const problem = knownAnswerProblem(module);
    loaded = problem === undefined ? { module } : { problem };
  } catch (error) {
    loaded = { problem: `the native sealer at ${file} did not load: ${(error as Error).message.split('\n')[0]}` };
  }
  return loaded;
}

/** Seals a fixed batch both ways and compares the bytes: a native sealer that disagrees with the reference
 *  (a bad build, another OpenSSL) must never write a record. */
export function knownAnswerProblem(module: NativeSealerModule): string | undefined {
  const keys: AuditKeys = { enc: Buffer.alloc(32, 0x11), mac: Buffer.alloc(32, 0x22) };
  const plaintexts: AuditPlaintext[] = [
    { t: 1_750_000_000_000, a: 'deposit', o: 'ok', c: 'c-1', amt: 4_000, x: { note: 'é ✓' } },
    { t: 1_750_000_000_001, a: 'balance', o: 'failed', why: 'NOT_SIGNED_IN' },
  ];
  const ivs = Buffer.alloc(plaintexts.length * IV_BYTES, 0x33);
  const previous = Buffer.alloc(32, 0x44);
  const firstSeq = 2 ** 32 - 1; // the 8-byte sequence number crosses its 32-bit halves within the batch
  try {
    const expected = javascriptSealer(keys).sealBatch(previous, firstSeq, plaintexts, ivs);
    const actual = nativeSealer(keys, module).sealBatch(previous, firstSeq, plaintexts, ivs);
    if (expected.every((value, i) => actual[i]?.equals(value))) return undefined;
    return 'the native sealer disagrees with the JavaScript reference on its known-answer batch; not using it';
  } catch (error) {
    return `the native sealer failed its known-answer batch: ${(error as Error).message}`;
  }
}

/** The native sealer when it is built and sound and not switched off, else the JavaScript one.
 *  `BANK_HOST_AUDIT_SEALER=native` insists on the native one, `javascript` picks the reference. */
export function chooseSealer(keys: AuditKeys, env: NodeJS.ProcessEnv = process.env): SealerChoice {
  const wanted = env[SEALER_ENV];
  if (wanted !== undefined && wanted !== 'native' && wanted !== 'javascript') {
    throw new Error(`${SEALER_ENV} must be "native" or "javascript", not ${JSON.stringify(wanted)}`);
  }
  if (wanted === 'javascript') return { sealer: javascriptSealer(keys), fallbackReason: `${SEALER_ENV}=javascript` };
  const native = loadNative();
  if (native.module) return { sealer: nativeSealer(keys, native.module) };
  // Asked for by name, its absence is an error rather than a quiet fallback.
  if (wanted === 'native') throw new Error(`${SEALER_ENV}=native, but ${native.problem!}`);
  return { sealer: javascriptSealer(keys), fallbackReason: native.problem! };
}
