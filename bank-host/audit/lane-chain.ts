// The audit log on PostgreSQL: one chain per lane (a host's connection slot, `<hostId>/<index>`; a lane
// runs one unit of work at a time). A unit's records and its lane's new head are written in the unit's own
// transaction, under the lock of the lane's head key that the unit took with its BEGIN, so records exist
// exactly when their effects do, and hosts never wait for each other to append (no global lock).
//
// Records keep LevelDB's keys and stored form (`audit:rec:<position>`, the customer index), so `audit
// show` and the activity view read both backends alike. A record's position comes from the store's
// sequence: unique and increasing across every host, with gaps where a unit rolled back; it is the
// record's "seq" in its sealing (associated data) and in its chain MAC. Each lane's chain is indexed under
// `audit:lane:<laneId>:<position>` and its head (`audit:lanehead:<laneId>`) holds its last position, tag
// and record count. `verifyLaneChains` (lane-verify.ts) walks them. docs/audit.md, "On PostgreSQL".
import { randomBytes } from 'node:crypto';
import { AuditError } from '../errors.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import type { LaneCommitSink } from '../store/postgres/host-units.js';
import type { UnitOfWork } from '../store/postgres/unit-of-work.js';
import type { AuditEvent } from './event.js';
import {
  AUDIT_KEY_CHECK_KEY,
  AUDIT_SEQ_DIGITS,
  AUDIT_SEQ_MAX,
  type AuditKeys,
  type StoredKeyCheck,
  ChainMac,
  IV_BYTES,
  auditCustomerKey,
  auditRecordKey,
  keyCheck,
  laneGenesisTag,
  sealStoredRecord,
  storedTag,
  toPlaintext,
} from './record.js';

export const AUDIT_LANE_HEAD_PREFIX = 'audit:lanehead:';
export const AUDIT_LANE_PREFIX = 'audit:lane:';

/** The lane of the chain a LevelDB host wrote, brought over by `bank-host migrate` (it chains from LevelDB's
 *  genesis tag). Lane ids of hosts hold a "/", so none can be this one. */
export const LEVELDB_LANE_ID = 'leveldb';

export const laneHeadKey = (laneId: string): string => `${AUDIT_LANE_HEAD_PREFIX}${laneId}`;
export const laneIndexPrefix = (laneId: string): string => `${AUDIT_LANE_PREFIX}${laneId}:`;
export const laneIndexKey = (laneId: string, position: number): string => `${laneIndexPrefix(laneId)}${String(position).padStart(AUDIT_SEQ_DIGITS, '0')}`;

/** A lane's head as stored: its last record's position and tag, and how many records it holds. */
export interface StoredLaneHead {
  readonly seq: number;
  readonly tag: string;
  readonly count: number;
}

export function parseLaneHead(value: unknown): { seq: number; tag: Buffer; count: number } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seq, tag, count } = value as Partial<StoredLaneHead>;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || typeof tag !== 'string') return undefined;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) return undefined;
  const bytes = Buffer.from(tag, 'base64');
  return bytes.length === 32 ? { seq, tag: bytes, count } : undefined;
}

export class LaneAuditChains implements LaneCommitSink<AuditEvent> {
  private readonly mac: ChainMac;

  private constructor(
    private readonly keys: AuditKeys,
    /** Why appending is refused (wrong keys): every state change then fails, as with LevelDB's chain. */
    readonly refusal: string | undefined,
  ) {
    this.mac = new ChainMac(keys.mac);
  }

  /** Checks the keys against the key check value the first record wrote (if any). */
  static async open(db: KeyValueStore, keys: AuditKeys): Promise<LaneAuditChains> {
    const check = await db.get<StoredKeyCheck>(AUDIT_KEY_CHECK_KEY);
    let refusal: string | undefined;
    if (check !== undefined) {
      const expected = keyCheck(keys);
      if (check.enc !== expected.enc || check.mac !== expected.mac) refusal = 'the audit keys do not match the ones the audit log was written with; refusing to append';
    }
    return new LaneAuditChains(keys, refusal);
  }

  laneKey(laneId: string): string {
    return laneHeadKey(laneId);
  }

  async prepare(unit: UnitOfWork, storedHead: unknown, events: readonly AuditEvent[], timestampMs: number): Promise<BatchOp[]> {
    if (this.refusal !== undefined) throw new AuditError('AUDIT_CHAIN', this.refusal);
    const laneId = unit.laneId;
    const head = storedHead === undefined ? undefined : parseLaneHead(storedHead);
    if (storedHead !== undefined && head === undefined) throw new AuditError('AUDIT_CHAIN', `the audit head of lane ${laneId} is malformed; run \`bank-host audit verify\``);
    const positions = await unit.numbers(events.length);
    if (positions[positions.length - 1]! > AUDIT_SEQ_MAX) throw new AuditError('AUDIT_CHAIN', 'audit sequence numbers are exhausted');
    const ops: BatchOp[] = [];
    if (head === undefined) ops.push({ type: 'put', key: AUDIT_KEY_CHECK_KEY, value: keyCheck(this.keys) });
    let tag = head?.tag ?? laneGenesisTag(this.keys.mac, laneId);
    const ivs = randomBytes(IV_BYTES * events.length);
    for (const [i, event] of events.entries()) {
      const position = positions[i]!;
      const value = sealStoredRecord(this.keys.enc, this.mac, tag, position, toPlaintext(event, timestampMs), ivs.subarray(i * IV_BYTES, (i + 1) * IV_BYTES));
      tag = storedTag(value);
      ops.push({ type: 'put', key: auditRecordKey(position), value, valueEncoding: 'buffer' });
      ops.push({ type: 'put', key: laneIndexKey(laneId, position), value: '' });
      if (event.customerId !== undefined) ops.push({ type: 'put', key: auditCustomerKey(event.customerId, position), value: '' });
    }
    const stored: StoredLaneHead = { seq: positions[positions.length - 1]!, tag: Buffer.from(tag).toString('base64'), count: (head?.count ?? 0) + events.length };
    ops.push({ type: 'put', key: laneHeadKey(laneId), value: stored });
    return ops;
  }
}
