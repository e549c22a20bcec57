// One audit record: what it says (the plaintext), how it is sealed (AES-256-GCM under the audit encryption
// key, its sequence number as associated data), how it is chained (HMAC-SHA256 under the separate audit
// MAC key over the previous tag, its sequence number and its sealed bytes) and stored, and under which
// LevelDB keys records, the chain head and the per-customer index live. See docs/audit.md.
import { createCipheriv, createDecipheriv, createHmac, hash, randomBytes } from 'node:crypto';
import { formatCents } from '../../protocol/money.js';
import { AuditError } from '../errors.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import type { AuditEvent, AuditOutcome } from './event.js';

export const AUDIT_RECORD_PREFIX = 'audit:rec:';
export const AUDIT_HEAD_KEY = 'audit:head';
/** Check values of the keys the log was written with, so `verify` can say "wrong key" instead of
 *  "every record modified". Written with the first record. */
export const AUDIT_KEY_CHECK_KEY = 'audit:keycheck';
export const AUDIT_CUSTOMER_PREFIX = 'audit:cust:';

/** Sequence numbers are zero-padded so key order is numeric order; 15 digits outlast any ATM. */
export const AUDIT_SEQ_DIGITS = 15;
export const AUDIT_SEQ_MAX = 10 ** AUDIT_SEQ_DIGITS - 1;

export const IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
export const CHAIN_TAG_BYTES = 32;
/** What a sealed record must at least hold: an IV, a GCM tag and one byte of ciphertext. */
const SEALED_MIN_BYTES = IV_BYTES + GCM_TAG_BYTES + 1;
const AAD_LABEL = 'atm-kiosk/audit/v1|';
const GENESIS_LABEL = 'atm-kiosk/audit/v1/genesis';
const KEY_CHECK_LABEL = 'atm-kiosk/audit/v1/key-check';
const KEY_CHECK_BYTES = 16;

export const auditRecordKey = (seq: number): string => `${AUDIT_RECORD_PREFIX}${String(seq).padStart(AUDIT_SEQ_DIGITS, '0')}`;
export const auditCustomerPrefix = (customerId: string): string => `${AUDIT_CUSTOMER_PREFIX}${customerId}:`;
export const auditCustomerKey = (customerId: string, seq: number): string =>
  `${auditCustomerPrefix(customerId)}${String(seq).padStart(AUDIT_SEQ_DIGITS, '0')}`;

/** The sequence number a record key names, or undefined when the key is not a well-formed record key. */
export function seqOfRecordKey(key: string): number | undefined {
  const digits = key.slice(AUDIT_RECORD_PREFIX.length);
  if (!key.startsWith(AUDIT_RECORD_PREFIX) || digits.length !== AUDIT_SEQ_DIGITS || !/^[0-9]+$/.test(digits)) return undefined;
  return Number(digits);
}

/** What a record says, before sealing. Short field names: a million records are a million copies. */
export interface AuditPlaintext {
  /** Host time of the commit, ms since the epoch. */
  readonly t: number;
  readonly a: string;
  readonly o: AuditOutcome;
  readonly c?: string;
  readonly d?: string;
  readonly by?: string;
  readonly amt?: number;
  readonly rq?: string;
  readonly why?: string;
  readonly x?: Readonly<Record<string, string | number | boolean>>;
}

/** A decrypted record as `audit show` and the activity view present it. */
export interface AuditEntry {
  readonly seq: number;
  readonly timestampMs: number;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly customerId?: string;
  readonly deviceId?: string;
  readonly actor?: string;
  readonly amountCents?: number;
  readonly requestId?: string;
  readonly reason?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
  /** The seeds' line, `CustomerID | Action | Timestamp`. Computed from the sealed fields when a record is
   *  opened rather than sealed a second time: it says nothing they do not, and would be a third of every
   *  record's bytes (see docs/audit.md, "Cost"). */
  readonly line: string;
}

/** The chain head as stored under `audit:head`: the last record's sequence number and tag. */
export interface StoredAuditHead {
  readonly seq: number;
  readonly tag: string;
}

export interface AuditHead {
  readonly seq: number;
  readonly tag: Buffer;
}

export interface StoredKeyCheck {
  readonly enc: string;
  readonly mac: string;
}

export interface AuditKeys {
  readonly enc: Buffer;
  readonly mac: Buffer;
}

/** The tag record 1 chains from: depends on the MAC key, so a log cannot be started under another key. */
export function genesisTag(macKey: Buffer): Buffer {
  return createHmac('sha256', macKey).update(GENESIS_LABEL).digest();
}

export function keyCheck(keys: AuditKeys): StoredKeyCheck {
  const check = (key: Buffer) => createHmac('sha256', key).update(KEY_CHECK_LABEL).digest().subarray(0, KEY_CHECK_BYTES).toString('base64');
  return { enc: check(keys.enc), mac: check(keys.mac) };
}

/** The tag the first record of a lane's chain (PostgreSQL: one chain per connection lane of each host)
 *  chains from: depends on the MAC key and the lane, so a chain cannot be passed off as another lane's. */
export function laneGenesisTag(macKey: Buffer, laneId: string): Buffer {
  return createHmac('sha256', macKey).update(GENESIS_LABEL).update('\u0000lane\u0000').update(laneId, 'utf8').digest();
}

/** The reference encoding, kept apart from `writeSeq` so tests hold one to the other. */
function seqBytes(seq: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeBigUInt64BE(BigInt(seq));
  return bytes;
}

/** HMAC-SHA256(previous tag ‖ seq as 8 bytes big-endian ‖ sealed bytes). The sealed bytes come last, so
 *  the variable-length part cannot shift into the fixed-length ones. The reference definition; `ChainMac`
 *  computes the same value faster. */
export function chainTag(macKey: Buffer, previousTag: Buffer, seq: number, sealed: Buffer): Buffer {
  return createHmac('sha256', macKey).update(previousTag).update(seqBytes(seq)).update(sealed).digest();
}

const SHA256_BLOCK_BYTES = 64;
/** Sealed records up to this size are MACed in a reused buffer; larger ones (none are written) take a copy. */
const CHAIN_MAC_SCRATCH_SEALED_BYTES = 8_192;

/** `chainTag` as RFC 2104 spells it out (H(K⊕opad ‖ H(K⊕ipad ‖ m))) with one-shot hashes over reused
 *  buffers: a third faster than `createHmac`, whose per-call key setup dominates for records this small.
 *  `verify` runs it a million times; the result is byte-for-byte HMAC-SHA256 (a test holds it to that). */
export class ChainMac {
  /** K⊕ipad ‖ previous tag ‖ seq ‖ sealed */
  private readonly inner: Buffer;
  /** K⊕opad ‖ inner digest */
  private readonly outer: Buffer;
  private static readonly PREFIX_BYTES = SHA256_BLOCK_BYTES + CHAIN_TAG_BYTES + 8;

  constructor(macKey: Buffer) {
    if (macKey.length > SHA256_BLOCK_BYTES) throw new Error('the audit MAC key must be at most 64 bytes');
    this.inner = Buffer.alloc(ChainMac.PREFIX_BYTES + CHAIN_MAC_SCRATCH_SEALED_BYTES);
    this.outer = Buffer.alloc(SHA256_BLOCK_BYTES + CHAIN_TAG_BYTES);
    for (let i = 0; i < SHA256_BLOCK_BYTES; i++) {
      const k = i < macKey.length ? macKey[i]! : 0;
      this.inner[i] = k ^ 0x36;
      this.outer[i] = k ^ 0x5c;
    }
  }

  tag(previousTag: Buffer, seq: number, sealed: Buffer): Buffer {
    const out = Buffer.allocUnsafe(CHAIN_TAG_BYTES);
    this.tagInto(previousTag, seq, sealed, out, 0);
    return out;
  }

  /** Writes the tag into `out` at `offset`. The digests come back as latin1 strings and are written into
   *  place: a string costs the caller a third of what a Buffer from the native side does (an ArrayBuffer
   *  with its own backing store per digest, and the garbage collector's work to free it). */
  tagInto(previousTag: Buffer, seq: number, sealed: Buffer, out: Buffer, offset: number): void {
    if (previousTag.length !== CHAIN_TAG_BYTES) throw new Error('a chain tag is 32 bytes');
    const prefix = ChainMac.PREFIX_BYTES;
    previousTag.copy(this.inner, SHA256_BLOCK_BYTES);
    writeSeq(this.inner, seq, SHA256_BLOCK_BYTES + CHAIN_TAG_BYTES);
    let message: Buffer;
    if (sealed.length <= CHAIN_MAC_SCRATCH_SEALED_BYTES) {
      sealed.copy(this.inner, prefix);
      message = this.inner.subarray(0, prefix + sealed.length);
    } else {
      message = Buffer.concat([this.inner.subarray(0, prefix), sealed]);
    }
    // 'binary' is Node's other name for latin1: one character per byte.
    this.outer.write(hash('sha256', message, 'binary'), SHA256_BLOCK_BYTES, 'latin1');
    out.write(hash('sha256', this.outer, 'binary'), offset, 'latin1');
  }
}

/** A sequence number as 8 bytes big-endian (sequence numbers stay below 2^53). */
function writeSeq(into: Buffer, seq: number, offset: number): void {
  into.writeUInt32BE(Math.floor(seq / 2 ** 32), offset);
  into.writeUInt32BE(seq >>> 0, offset + 4);
}

function aad(seq: number): Buffer {
  return Buffer.from(AAD_LABEL + seq, 'utf8');
}

/** IV ‖ GCM tag ‖ ciphertext. A fresh random IV per record: 2^-32 collision bound holds far past 2^32 records
 *  per key only if the key is rotated first; an ATM host writes a few million a year. */
export function sealRecord(encKey: Buffer, seq: number, plaintext: AuditPlaintext, iv: Buffer = randomBytes(IV_BYTES)): Buffer {
  return sealRecordAfter(0, encKey, seq, plaintext, iv);
}

/** `sealRecord`'s bytes, after `headerBytes` left for the caller to fill: one buffer per stored record
 *  instead of a sealed one and a copy. */
function sealRecordAfter(headerBytes: number, encKey: Buffer, seq: number, plaintext: AuditPlaintext, iv: Buffer): Buffer {
  if (iv.length !== IV_BYTES) throw new Error(`an audit record IV is ${IV_BYTES} bytes`);
  const cipher = createCipheriv('aes-256-gcm', encKey, iv);
  cipher.setAAD(aad(seq));
  const body = cipher.update(JSON.stringify(plaintext), 'utf8');
  const rest = cipher.final(); // GCM is a stream mode: empty, but taken so the tag is final
  const at = headerBytes;
  const sealed = Buffer.allocUnsafe(at + IV_BYTES + GCM_TAG_BYTES + body.length + rest.length);
  iv.copy(sealed, at);
  cipher.getAuthTag().copy(sealed, at + IV_BYTES);
  body.copy(sealed, at + IV_BYTES + GCM_TAG_BYTES);
  rest.copy(sealed, at + IV_BYTES + GCM_TAG_BYTES + body.length);
  return sealed;
}

export function openRecord(encKey: Buffer, seq: number, sealed: Buffer): AuditPlaintext {
  if (sealed.length < SEALED_MIN_BYTES) throw new AuditError('AUDIT_DECRYPT_FAILED', `audit record ${seq} is too short to be a sealed record`);
  const decipher = createDecipheriv('aes-256-gcm', encKey, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad(seq));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + GCM_TAG_BYTES));
  let text: string;
  try {
    text = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + GCM_TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new AuditError('AUDIT_DECRYPT_FAILED', `audit record ${seq} does not decrypt under this audit encryption key (wrong key, or the record was altered)`);
  }
  return JSON.parse(text) as AuditPlaintext;
}

// Stored value of a record, raw bytes (not JSON): format byte ‖ seq (8 bytes, big-endian) ‖ chain tag (32) ‖
// sealed bytes. Bytes rather than text, because every byte of an audit record is written to the log, flushed
// and compacted by LevelDB over and over, and base64 would add a third; `verify` reads them without decoding.
// The sequence number inside the value (covered by the tag) tells a moved record from a modified one.
export interface StoredRecordParts {
  readonly seq: number;
  readonly sealed: Buffer;
  readonly tag: Buffer;
}

const STORED_FORMAT_V1 = 1;
const STORED_TAG_OFFSET = 1 + 8;
const STORED_HEADER_BYTES = STORED_TAG_OFFSET + CHAIN_TAG_BYTES;

export function encodeStoredRecord(seq: number, sealed: Buffer, tag: Buffer): Buffer {
  const value = Buffer.allocUnsafe(STORED_HEADER_BYTES + sealed.length);
  writeStoredHeader(value, seq);
  tag.copy(value, STORED_TAG_OFFSET);
  sealed.copy(value, STORED_HEADER_BYTES);
  return value;
}

function writeStoredHeader(value: Buffer, seq: number): void {
  value[0] = STORED_FORMAT_V1;
  writeSeq(value, seq, 1);
}

/** The batch operation that stores a record: its value as raw bytes. */
export function storedRecordPut(seq: number, sealed: Buffer, tag: Buffer): BatchOp {
  return { type: 'put', key: auditRecordKey(seq), value: encodeStoredRecord(seq, sealed, tag), valueEncoding: 'buffer' };
}

/** Seals record `seq`, chains it from `previousTag` and returns its stored value, built in one buffer:
 *  what `storedRecordPut(seq, sealRecord(…), mac.tag(…))` stores, with fewer copies. The record's tag is
 *  `storedTag(value)`. */
export function sealStoredRecord(encKey: Buffer, mac: ChainMac, previousTag: Buffer, seq: number, plaintext: AuditPlaintext, iv: Buffer): Buffer {
  const value = sealRecordAfter(STORED_HEADER_BYTES, encKey, seq, plaintext, iv);
  writeStoredHeader(value, seq);
  mac.tagInto(previousTag, seq, value.subarray(STORED_HEADER_BYTES), value, STORED_TAG_OFFSET);
  return value;
}

/** The chain tag inside a stored record value (a view, not a copy). */
export const storedTag = (value: Buffer): Buffer => value.subarray(STORED_TAG_OFFSET, STORED_HEADER_BYTES);

/** Splits a stored record value (views into it, not copies); undefined when it is not in the stored form. */
export function decodeStoredRecord(value: unknown): StoredRecordParts | undefined {
  if (!Buffer.isBuffer(value) || value.length < STORED_HEADER_BYTES + SEALED_MIN_BYTES || value[0] !== STORED_FORMAT_V1) return undefined;
  const seq = value.readUIntBE(1, 8 - 2) * 2 ** 16 + value.readUInt16BE(7);
  if (!Number.isSafeInteger(seq)) return undefined;
  return { seq, tag: value.subarray(STORED_TAG_OFFSET, STORED_HEADER_BYTES), sealed: value.subarray(STORED_HEADER_BYTES) };
}

/** Stored record values by sequence number, as bytes (undefined where there is none). */
export async function readStoredRecords(db: KeyValueStore, seqs: readonly number[]): Promise<(Buffer | undefined)[]> {
  if (seqs.length === 0) return [];
  return db.getBuffers(seqs.map(auditRecordKey));
}

export function toEntry(seq: number, p: AuditPlaintext): AuditEntry {
  const fields = {
    seq,
    timestampMs: p.t,
    action: p.a,
    outcome: p.o,
    ...(p.c !== undefined && { customerId: p.c }),
    ...(p.d !== undefined && { deviceId: p.d }),
    ...(p.by !== undefined && { actor: p.by }),
    ...(p.amt !== undefined && { amountCents: p.amt }),
    ...(p.rq !== undefined && { requestId: p.rq }),
    ...(p.why !== undefined && { reason: p.why }),
    ...(p.x !== undefined && { detail: p.x }),
  };
  return { ...fields, line: seedsLine(fields, p.t) };
}

/** Detail names that can only hold a secret; such a fact is dropped whatever its value. */
const SECRET_DETAIL_NAMES = /^(pin|pin_?block|password|passphrase|secret|k_?shared|key|pan)$/i;
/** A run of 12-19 digits may be a PAN: only its last four digits are kept. The host's own ids (`auth_`,
 *  `dep_`, `pst_`… and 16-32 hex digits with at least one letter among them) are matched whole first and
 *  kept: one in thirty of them holds a run of 12 or more decimal digits by chance, and masked it would no
 *  longer name what it names (an operator's `hold.resolve` record its authorization). An "id" whose hex is
 *  all digits is a number like any other, and masked. */
const PAN_LIKE = /\b[a-z]{2,5}_(?=[0-9a-f]*[a-f])[0-9a-f]{16,32}\b|\d{12,19}/g;
const PAN_LIKE_MIN_DIGITS = 12;
const maskPanLike = (match: string): string => (/^\d/.test(match) ? `••••${match.slice(-4)}` : match);

/** The last line of defence: whatever a caller put in an event, a record never holds a PIN, password, key
 *  or PAN beyond its last four digits. Callers are expected not to try; this catches the ones that do. */
function redacted(detail: Readonly<Record<string, string | number | boolean>>): Record<string, string | number | boolean> {
  const safe: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(detail)) {
    if (SECRET_DETAIL_NAMES.test(name)) continue;
    // Shorter strings cannot hold a PAN-like run; most details (last four digits, ids) skip the regex.
    safe[name] = typeof value === 'string' && value.length >= PAN_LIKE_MIN_DIGITS ? value.replace(PAN_LIKE, maskPanLike) : value;
  }
  return safe;
}

export function toPlaintext(event: AuditEvent, timestampMs: number): AuditPlaintext {
  // Built field by field rather than by spreads: this runs once per record inside the commit path.
  const p: { -readonly [K in keyof AuditPlaintext]: AuditPlaintext[K] } = { t: timestampMs, a: event.action, o: event.outcome };
  if (event.customerId !== undefined) p.c = event.customerId;
  if (event.deviceId !== undefined) p.d = event.deviceId;
  if (event.actor !== undefined) p.by = event.actor;
  if (event.amountCents !== undefined) p.amt = event.amountCents;
  if (event.requestId !== undefined) p.rq = event.requestId;
  if (event.reason !== undefined) p.why = event.reason;
  if (event.detail !== undefined) p.x = redacted(event.detail);
  return p;
}

/** What the action was, in words an auditor reads: `withdraw $100.00 failed - insufficient funds`. */
export function describeAction(event: Pick<AuditEvent, 'action' | 'outcome' | 'amountCents' | 'reason' | 'deviceId' | 'actor'>): string {
  const amount = event.amountCents !== undefined ? ` ${formatCents(event.amountCents)}` : '';
  const verb = ACTION_WORDS[event.action] ?? event.action;
  const what = `${event.actor === 'operator' ? 'operator: ' : ''}${verb}${amount}`;
  if (event.outcome === 'ok') return what;
  const reason = event.reason ? ` - ${event.reason.toLowerCase().replace(/_/g, ' ')}` : '';
  return `${what} ${event.outcome}${reason}`;
}

const ACTION_WORDS: Readonly<Record<string, string>> = {
  'withdraw.authorize': 'withdraw',
  'withdraw.complete': 'withdraw completed',
  'withdraw.reverse': 'withdraw reversed',
  'signin.password': 'sign-in with password',
  'signin.card': 'sign-in with card',
  signout: 'sign-out',
  'session.expire': 'session expired',
  'session.end': 'session ended',
  history: 'history viewed',
  activity: 'activity viewed',
  balance: 'balance viewed',
  'deposit.open': 'deposit started',
  'deposit.commit': 'deposit',
  'deposit.hold.release': 'deposit hold released',
  'kiosk.status': 'kiosk status',
  'exception.resolve': 'money exception resolved',
  'replenish.open': 'replenishment started',
  'replenish.unload': 'container unloaded and counted',
  'replenish.load': 'cassettes loaded',
  'replenish.close': 'replenishment closed',
  'fleet.resolve': 'balancing difference resolved',
};

/** `CustomerID | Action | Timestamp`, the seeds' format. Records without a customer name who acted instead. */
export function seedsLine(event: AuditEvent, timestampMs: number): string {
  const who = event.customerId ?? (event.deviceId !== undefined ? `device:${event.deviceId}` : event.actor ?? '-');
  return `${who} | ${describeAction(event)} | ${new Date(timestampMs).toISOString()}`;
}
