// Keys travel and rest wrapped in ANSI X9.143 (TR-31) key blocks, version D: AES key derivation, AES-CBC
// encryption of the key and an AES-CMAC over the header and the clear payload, so a key cannot be used
// for another purpose, on another device, or changed in transit without the block failing to verify.
// Built on Node's crypto (AES-CBC) and the `aes-cmac` package (WebCrypto underneath); held to the
// standard's published examples (TR-31:2018 A.7.4, X9.143:2021 8.1) in test/protocol/key-block.test.ts.
//
// Block = header (16 ASCII characters + optional blocks) ‖ hex(encrypted payload) ‖ hex(MAC, 16 bytes)
//   header     = 'D' ‖ total length (4 digits) ‖ key usage (2) ‖ algorithm (1) ‖ mode of use (1) ‖
//                key version (2) ‖ exportability (1) ‖ number of optional blocks (2 digits) ‖ '00'
//   payload    = key length in bits (2 bytes) ‖ key ‖ random padding, to a multiple of 16 bytes and at
//                least `maskedKeyBytes` of key plus padding (so the length of a short key is not shown)
//   KBEK, KBAK = CMAC(KBPK, counter ‖ usage (0000 encrypt, 0001 MAC) ‖ 00 ‖ algorithm ‖ length in bits)
//                over as many counters as the KBPK's length needs (NIST SP 800-108, counter mode)
//   MAC        = CMAC(KBAK, header ‖ payload); encrypted = AES-CBC(KBEK, IV = MAC, payload)
import { AesCmac } from 'aes-cmac';
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';

export class KeyBlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyBlockError';
  }
}

export interface OptionalBlock {
  /** Two printable characters: `KC` (check value of the wrapped key), `KP` (of the KBPK), `LB` (label)… */
  readonly id: string;
  /** Printable ASCII. */
  readonly data: string;
}

export interface KeyBlockHeader {
  /** `P0` PIN encryption, `K1` key block protection, `D0` data encryption, `M3` MAC… */
  readonly keyUsage: string;
  /** `A` AES, `T` TDES. */
  readonly algorithm: string;
  /** `E` encrypt/wrap only, `D` decrypt only, `B` both, `N` no restriction… */
  readonly modeOfUse: string;
  /** Two characters; `00` when not used. */
  readonly keyVersion: string;
  /** `N` not exportable, `E` exportable under a trusted key, `S` sensitive. */
  readonly exportability: string;
  readonly optionalBlocks: readonly OptionalBlock[];
}

const HEADER_FIXED_CHARS = 16;
const MAC_BYTES = 16;
const AES_BLOCK_BYTES = 16;
/** The longest block this code reads: far above any AES key's block, far below a frame. */
export const KEY_BLOCK_MAX_CHARS = 9_999;
const PRINTABLE = /^[\x20-\x7e]*$/;

async function cmac(key: Buffer, data: Buffer): Promise<Buffer> {
  return Buffer.from(await new AesCmac(key).calculate(data));
}

/** AES-CMAC key check value (X9.24-1:2017): the leftmost 5 bytes of CMAC(key, 16 zero bytes), as 10 hex
 *  digits. People compare keys by it without seeing them. */
export async function keyCheckValue(key: Buffer): Promise<string> {
  checkAesKey(key, 'key');
  return (await cmac(key, Buffer.alloc(AES_BLOCK_BYTES))).subarray(0, 5).toString('hex').toUpperCase();
}

function checkAesKey(key: Buffer, name: string): void {
  if (![16, 24, 32].includes(key.length)) throw new KeyBlockError(`${name} must be an AES key of 16, 24 or 32 bytes`);
}

async function deriveKey(kbpk: Buffer, usage: 0 | 1): Promise<Buffer> {
  const algorithm = { 16: 2, 24: 3, 32: 4 }[kbpk.length]!;
  const bits = kbpk.length * 8;
  const parts: Buffer[] = [];
  for (let counter = 1; parts.length * AES_BLOCK_BYTES < kbpk.length; counter++) {
    parts.push(await cmac(kbpk, Buffer.from([counter, 0, usage, 0, 0, algorithm, bits >> 8, bits & 0xff])));
  }
  return Buffer.concat(parts).subarray(0, kbpk.length);
}

const cbc = (key: Buffer) => `aes-${key.length * 8}-cbc` as const;

function encodeOptionalBlocks(blocks: readonly OptionalBlock[]): string {
  return blocks
    .map(({ id, data }) => {
      if (!/^[\x21-\x7e]{2}$/.test(id)) throw new KeyBlockError(`optional block id ${JSON.stringify(id)} must be two printable characters`);
      if (!PRINTABLE.test(data)) throw new KeyBlockError(`optional block ${id} must hold printable ASCII`);
      const length = data.length + 4;
      if (length > 0xff) throw new KeyBlockError(`optional block ${id} is too long`);
      return id + length.toString(16).toUpperCase().padStart(2, '0') + data;
    })
    .join('');
}

/** The header text for `header` and a block of `totalChars`, with a `PB` padding block added when the
 *  optional blocks do not end on an AES block boundary (the standard's rule). */
function headerText(header: KeyBlockHeader, blocks: readonly OptionalBlock[], totalChars: number): string {
  const fields: [string, string, number][] = [
    ['key usage', header.keyUsage, 2],
    ['algorithm', header.algorithm, 1],
    ['mode of use', header.modeOfUse, 1],
    ['key version', header.keyVersion, 2],
    ['exportability', header.exportability, 1],
  ];
  for (const [name, value, length] of fields) {
    if (value.length !== length || !/^[0-9A-Za-z]+$/.test(value)) throw new KeyBlockError(`${name} must be ${length} letters or digits`);
  }
  if (blocks.length > 99) throw new KeyBlockError('at most 99 optional blocks');
  return `D${String(totalChars).padStart(4, '0')}${header.keyUsage}${header.algorithm}${header.modeOfUse}${header.keyVersion}${header.exportability}${String(blocks.length).padStart(2, '0')}00${encodeOptionalBlocks(blocks)}`;
}

function withPadding(blocks: readonly OptionalBlock[]): OptionalBlock[] {
  const chars = encodeOptionalBlocks(blocks).length;
  if (chars % AES_BLOCK_BYTES === 0) return [...blocks];
  // 'PB' + length + at least nothing: the smallest padding block is 4 characters.
  let pad = AES_BLOCK_BYTES - ((chars + 4) % AES_BLOCK_BYTES);
  if (pad === AES_BLOCK_BYTES) pad = 0;
  return [...blocks, { id: 'PB', data: '0'.repeat(pad) }];
}

export interface WrapOptions {
  /** Key bytes plus padding are at least this long (default 32: every AES key looks the same length). */
  readonly maskedKeyBytes?: number;
  /** Test vectors only: the padding bytes to use instead of random ones. */
  readonly padding?: Buffer;
}

/** Wraps `key` under `kbpk` into a version D key block. */
export async function wrapKeyBlock(kbpk: Buffer, header: KeyBlockHeader, key: Buffer, options: WrapOptions = {}): Promise<string> {
  checkAesKey(kbpk, 'the key block protection key');
  if (key.length === 0 || key.length > 64) throw new KeyBlockError('the wrapped key must be 1..64 bytes');
  const masked = Math.max(options.maskedKeyBytes ?? 32, key.length);
  let payloadBytes = 2 + masked;
  payloadBytes += (AES_BLOCK_BYTES - (payloadBytes % AES_BLOCK_BYTES)) % AES_BLOCK_BYTES;
  const padding = options.padding ?? randomBytes(payloadBytes - 2 - key.length);
  if (padding.length !== payloadBytes - 2 - key.length) throw new KeyBlockError(`padding must be ${payloadBytes - 2 - key.length} bytes`);
  const payload = Buffer.concat([Buffer.from([(key.length * 8) >> 8, (key.length * 8) & 0xff]), key, padding]);
  const blocks = withPadding(header.optionalBlocks);
  const headerChars = HEADER_FIXED_CHARS + encodeOptionalBlocks(blocks).length;
  const total = headerChars + 2 * payload.length + 2 * MAC_BYTES;
  if (total > KEY_BLOCK_MAX_CHARS) throw new KeyBlockError('the key block would be too long');
  const text = headerText(header, blocks, total);
  const [kbek, kbak] = await Promise.all([deriveKey(kbpk, 0), deriveKey(kbpk, 1)]);
  try {
    const mac = await cmac(kbak, Buffer.concat([Buffer.from(text, 'ascii'), payload]));
    const cipher = createCipheriv(cbc(kbek), kbek, mac).setAutoPadding(false);
    const encrypted = Buffer.concat([cipher.update(payload), cipher.final()]);
    return text + Buffer.concat([encrypted, mac]).toString('hex').toUpperCase();
  } finally {
    payload.fill(0);
    kbek.fill(0);
    kbak.fill(0);
  }
}

/** A block's header, read without any key: what `provision` and the CLIs show before unwrapping. */
export function parseKeyBlockHeader(block: string): KeyBlockHeader & { readonly headerChars: number } {
  if (typeof block !== 'string' || block.length < HEADER_FIXED_CHARS || block.length > KEY_BLOCK_MAX_CHARS) throw new KeyBlockError('not a key block: wrong length');
  if (!PRINTABLE.test(block)) throw new KeyBlockError('not a key block: unprintable characters');
  if (block[0] !== 'D') throw new KeyBlockError(`key block version ${JSON.stringify(block[0])} is not supported (only D, AES)`);
  const length = /^\d{4}$/.test(block.slice(1, 5)) ? Number(block.slice(1, 5)) : NaN;
  if (length !== block.length) throw new KeyBlockError('the key block length field does not match the block');
  const count = /^\d{2}$/.test(block.slice(12, 14)) ? Number(block.slice(12, 14)) : NaN;
  if (Number.isNaN(count)) throw new KeyBlockError('the number of optional blocks is not two digits');
  const optionalBlocks: OptionalBlock[] = [];
  let at = HEADER_FIXED_CHARS;
  for (let i = 0; i < count; i++) {
    const id = block.slice(at, at + 2);
    const lengthHex = block.slice(at + 2, at + 4);
    const blockLength = /^[0-9A-Fa-f]{2}$/.test(lengthHex) ? parseInt(lengthHex, 16) : NaN;
    // Extended lengths (length field 00) are not produced here and not accepted.
    if (!(blockLength >= 4) || at + blockLength > block.length) throw new KeyBlockError(`optional block ${i + 1} has a bad length`);
    optionalBlocks.push({ id, data: block.slice(at + 4, at + blockLength) });
    at += blockLength;
  }
  if ((at - HEADER_FIXED_CHARS) % AES_BLOCK_BYTES !== 0) throw new KeyBlockError('the optional blocks do not end on a cipher block boundary');
  const rest = block.length - at;
  if (rest < 2 * (AES_BLOCK_BYTES + MAC_BYTES) || rest % (2 * AES_BLOCK_BYTES) !== 0 || !/^[0-9A-F]*$/.test(block.slice(at))) {
    throw new KeyBlockError('the encrypted part of the key block is malformed');
  }
  return {
    keyUsage: block.slice(5, 7),
    algorithm: block.slice(7, 8),
    modeOfUse: block.slice(8, 9),
    keyVersion: block.slice(9, 11),
    exportability: block.slice(11, 12),
    optionalBlocks: optionalBlocks.filter((b) => b.id !== 'PB'),
    headerChars: at,
  };
}

/** Verifies and unwraps a version D key block. Every failure (wrong KBPK, changed header or payload)
 *  is the same KeyBlockError, so the answer says nothing about which part failed. */
export async function unwrapKeyBlock(kbpk: Buffer, block: string): Promise<{ readonly header: KeyBlockHeader; readonly key: Buffer }> {
  checkAesKey(kbpk, 'the key block protection key');
  const header = parseKeyBlockHeader(block);
  const encrypted = Buffer.from(block.slice(header.headerChars, block.length - 2 * MAC_BYTES), 'hex');
  const mac = Buffer.from(block.slice(block.length - 2 * MAC_BYTES), 'hex');
  const [kbek, kbak] = await Promise.all([deriveKey(kbpk, 0), deriveKey(kbpk, 1)]);
  let payload: Buffer | undefined;
  try {
    const decipher = createDecipheriv(cbc(kbek), kbek, mac).setAutoPadding(false);
    payload = Buffer.concat([decipher.update(encrypted), decipher.final()]);
    const expected = await cmac(kbak, Buffer.concat([Buffer.from(block.slice(0, header.headerChars), 'ascii'), payload]));
    if (!timingSafeEqual(expected, mac)) throw new KeyBlockError('the key block does not verify under this key block protection key');
    const bits = payload.readUInt16BE(0);
    if (bits === 0 || bits % 8 !== 0 || 2 + bits / 8 > payload.length) throw new KeyBlockError('the key block does not verify under this key block protection key');
    const { headerChars: _, ...rest } = header;
    return { header: rest, key: Buffer.from(payload.subarray(2, 2 + bits / 8)) };
  } finally {
    payload?.fill(0);
    kbek.fill(0);
    kbak.fill(0);
  }
}
