// The audit sink the group committer calls: numbers, seals and chains the events of one batch and returns
// the operations that store them with the new head. The committer writes those operations in the same
// synced batch as the state change, so a record exists exactly when its effect does (refused and failed
// actions have no effect but still get their record, durably).
import { randomBytes } from 'node:crypto';
import { AuditError } from '../errors.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import type { AuditEvent, AuditSink } from './event.js';
import {
  AUDIT_HEAD_KEY,
  AUDIT_KEY_CHECK_KEY,
  AUDIT_SEQ_MAX,
  type AuditHead,
  type AuditKeys,
  type StoredAuditHead,
  type StoredKeyCheck,
  auditCustomerKey,
  ChainMac,
  IV_BYTES,
  auditRecordKey,
  genesisTag,
  keyCheck,
  sealStoredRecord,
  storedTag,
  toPlaintext,
} from './record.js';

export function parseStoredHead(value: unknown): AuditHead | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seq, tag } = value as Partial<StoredAuditHead>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || typeof tag !== 'string') return undefined;
  const bytes = Buffer.from(tag, 'base64');
  return bytes.length === 32 ? { seq, tag: bytes } : undefined;
}

export class AuditChain implements AuditSink {
  /** The head of what is on disk. */
  private head: AuditHead;
  /** The head after the batch being written, until it lands or fails. */
  private pending: AuditHead | undefined;

  private constructor(
    private readonly keys: AuditKeys,
    head: AuditHead | undefined,
    /** Why appending is refused (wrong keys, malformed head); every state change then fails, because
     *  the host must not change state it cannot record. Reading and verifying still work. */
    readonly refusal: string | undefined,
  ) {
    this.head = head ?? { seq: 0, tag: genesisTag(keys.mac) };
    this.mac = new ChainMac(keys.mac);
  }

  private readonly mac: ChainMac;

  /** Loads the stored head. Does not throw on a bad head or wrong keys, so `audit verify` can still open
   *  the host and diagnose the log; `refusal` says why appending is refused instead. */
  static async open(db: KeyValueStore, keys: AuditKeys): Promise<AuditChain> {
    const stored = await db.get<unknown>(AUDIT_HEAD_KEY);
    const head = stored === undefined ? undefined : parseStoredHead(stored);
    let refusal: string | undefined;
    if (stored !== undefined && head === undefined) refusal = 'the stored audit head is malformed; run `bank-host audit verify`';
    const check = await db.get<StoredKeyCheck>(AUDIT_KEY_CHECK_KEY);
    if (check !== undefined) {
      const expected = keyCheck(keys);
      // Records chained under a wrong key would break the chain for good.
      if (check.enc !== expected.enc || check.mac !== expected.mac) refusal = 'the audit keys do not match the ones the audit log was written with; refusing to append';
    } else if (head !== undefined) {
      refusal = 'the audit log has records but no key check value; run `bank-host audit verify`';
    }
    return new AuditChain(keys, head, refusal);
  }

  /** The durable head (sequence 0 before the first record). */
  get current(): { readonly seq: number; readonly tag: Buffer } {
    return this.head;
  }

  prepare(events: readonly AuditEvent[], timestampMs: number): BatchOp[] {
    if (this.refusal !== undefined) throw new AuditError('AUDIT_CHAIN', this.refusal);
    if (this.pending) throw new AuditError('AUDIT_CHAIN', 'audit batches overlap: prepare was called before the last batch finished');
    const ops: BatchOp[] = [];
    let { seq, tag } = this.head;
    if (seq === 0) ops.push({ type: 'put', key: AUDIT_KEY_CHECK_KEY, value: keyCheck(this.keys) });
    if (seq + events.length > AUDIT_SEQ_MAX) throw new AuditError('AUDIT_CHAIN', 'audit sequence numbers are exhausted');
    // One call to the random source per batch rather than per record: fresh random IVs either way.
    const ivs = randomBytes(IV_BYTES * events.length);
    for (const [i, event] of events.entries()) {
      seq += 1;
      const value = sealStoredRecord(this.keys.enc, this.mac, tag, seq, toPlaintext(event, timestampMs), ivs.subarray(i * IV_BYTES, (i + 1) * IV_BYTES));
      tag = storedTag(value);
      ops.push({ type: 'put', key: auditRecordKey(seq), value, valueEncoding: 'buffer' });
      // Customer ids are not secret; the index lets `show --customer` and the activity view skip decrypting
      // everyone else's records.
      if (event.customerId !== undefined) ops.push({ type: 'put', key: auditCustomerKey(event.customerId, seq), value: '' });
    }
    // A copy: the tag is a view into the last record, which the head should not keep alive.
    tag = Buffer.from(tag);
    ops.push({ type: 'put', key: AUDIT_HEAD_KEY, value: { seq, tag: tag.toString('base64') } satisfies StoredAuditHead });
    this.pending = { seq, tag };
    return ops;
  }

  committed(): void {
    if (this.pending) this.head = this.pending;
    this.pending = undefined;
  }

  failed(): void {
    this.pending = undefined;
  }
}
