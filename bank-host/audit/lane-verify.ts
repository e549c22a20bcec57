// `audit verify` on PostgreSQL: every lane's chain (lane-chain.ts) walked from its genesis, in position
// order, each record's MAC checked against the previous tag of its lane, each lane's head against its last
// record and record count; then every record in the store must belong to exactly one verified chain (a
// record in no lane's index was inserted; a record a lane's index names but the store lacks was deleted).
// Like LevelDB's verify it never decrypts. A signed checkpoint of the lanes (checkpoint.ts) adds what the
// chains alone cannot show: every lane it names must still hold the record it names, with its tag; a
// lane that is gone or ends before it was cut off or rolled back with its head. A LevelDB checkpoint
// from before `bank-host migrate` is checked against the lane the LevelDB chain became.
import { timingSafeEqual } from 'node:crypto';
import type { KeyValueStore } from '../store/host-store.js';
import { AUDIT_LANE_HEAD_PREFIX, LEVELDB_LANE_ID, laneIndexPrefix, parseLaneHead } from './lane-chain.js';
import { AUDIT_KEY_CHECK_KEY, AUDIT_RECORD_PREFIX, type AuditKeys, type StoredKeyCheck, ChainMac, auditRecordKey, decodeStoredRecord, genesisTag, keyCheck, laneGenesisTag } from './record.js';
import { type AuditCheckpoint, type LaneCheckpointHead, LANE_CHECKPOINT_FORMAT, checkpointSeq, checkpointSignatureValid } from './checkpoint.js';
import type { AuditProblem, AuditVerifyReport, VerifyKeys, VerifyOptions } from './verify-report.js';

/** Records fetched per step while walking a lane. */
const LANE_READ_BATCH = 1_024;
/** Lanes a store may hold (hosts × their pool size, with room for hosts replaced over the years). */
export const AUDIT_LANES_MAX = 100_000;

const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export interface LaneVerifyDetail {
  readonly lanes: number;
  /** Each lane's head as verified (what a lane checkpoint signs), when the log verified. */
  readonly laneHeads?: readonly { lane: string; seq: number; count: number; tag: Buffer }[];
}

/** `verifyLaneChains` with every read from one snapshot: on a serving host, lanes grow while they are
 *  walked, and a head read before its lane's newest records would look rolled back. */
export function verifyLanesInSnapshot(db: KeyValueStore, keys: AuditKeys & Partial<Pick<VerifyKeys, 'sign'>>, options: VerifyOptions = {}): Promise<AuditVerifyReport & LaneVerifyDetail> {
  const walk = () => verifyLaneChains(db, keys, options);
  return db.readSnapshot !== undefined ? db.readSnapshot(walk) : walk();
}

/** What a checkpoint vouches for, per lane: a LevelDB checkpoint names the lane its chain became (its
 *  record count unknown, so not checked). */
function checkpointLanes(checkpoint: AuditCheckpoint): Map<string, Omit<LaneCheckpointHead, 'lane' | 'count'> & { count?: number }> {
  if (checkpoint.format === LANE_CHECKPOINT_FORMAT) return new Map(checkpoint.lanes.map(({ lane, ...head }) => [lane, head]));
  return checkpoint.seq === 0 ? new Map() : new Map([[LEVELDB_LANE_ID, { seq: checkpoint.seq, tag: checkpoint.tag }]]);
}

export async function verifyLaneChains(db: KeyValueStore, keys: AuditKeys & Partial<Pick<VerifyKeys, 'sign'>>, options: VerifyOptions = {}): Promise<AuditVerifyReport & LaneVerifyDetail> {
  const startedMs = performance.now();
  let records = 0;
  let lanes = 0;
  let lastPosition = 0;
  const verifiedHeads: { lane: string; seq: number; count: number; tag: Buffer }[] = [];
  const checkpoint = options.checkpoint;
  const finish = (problem: AuditProblem | undefined) => {
    const elapsedMs = performance.now() - startedMs;
    return {
      ok: problem === undefined,
      records,
      lanes,
      verifiedThroughSeq: lastPosition,
      head: null,
      ...(checkpoint !== undefined && { checkpoint: { seq: checkpointSeq(checkpoint), timeMs: checkpoint.timeMs, matched: problem === undefined } }),
      ...(problem === undefined && { laneHeads: verifiedHeads }),
      ...(problem !== undefined && { problem }),
      elapsedMs: Math.round(elapsedMs),
      recordsPerSecond: elapsedMs > 0 ? Math.round((records / elapsedMs) * 1000) : 0,
    };
  };
  if (checkpoint !== undefined && (keys.sign === undefined || !checkpointSignatureValid(keys.sign, checkpoint))) {
    return finish({ kind: 'bad-checkpoint', message: "the checkpoint's signature does not verify under this host's audit signing key (forged, altered, or from another host)" });
  }
  const vouched = checkpoint === undefined ? new Map<string, never>() : checkpointLanes(checkpoint);
  const when = checkpoint === undefined ? '' : new Date(checkpoint.timeMs).toISOString();
  const check = await db.get<StoredKeyCheck>(AUDIT_KEY_CHECK_KEY);
  if (check !== undefined) {
    const expected = keyCheck(keys);
    if (check.mac !== expected.mac) return finish({ kind: 'wrong-key', message: 'the audit MAC key is not the one this log was written with; nothing can be verified with it' });
    if (check.enc !== expected.enc) return finish({ kind: 'wrong-key', message: 'the audit encryption key is not the one this log was written with; records could not be decrypted' });
  }
  const mac = new ChainMac(keys.mac);
  const heads: [string, unknown][] = [];
  for await (const entry of db.entries<unknown>(AUDIT_LANE_HEAD_PREFIX)) {
    if (heads.length >= AUDIT_LANES_MAX) return finish({ kind: 'inserted', message: `more than ${AUDIT_LANES_MAX} audit lanes: refusing to walk them` });
    heads.push(entry);
  }
  let chained = 0;
  for (const [headKey, rawHead] of heads) {
    const laneId = headKey.slice(AUDIT_LANE_HEAD_PREFIX.length);
    const head = parseLaneHead(rawHead);
    if (head === undefined) return finish({ kind: 'modified', message: `the head of lane ${laneId} is malformed` });
    lanes++;
    // The chain a LevelDB host wrote before `bank-host migrate` brought it here starts from LevelDB's genesis.
    let previous = laneId === LEVELDB_LANE_ID ? genesisTag(keys.mac) : laneGenesisTag(keys.mac, laneId);
    let count = 0;
    let last = 0;
    const signed = vouched.get(laneId);
    let signedMatched = false;
    const prefix = laneIndexPrefix(laneId);
    let positions: number[] = [];
    const walk = async (): Promise<AuditProblem | undefined> => {
      const values = await db.getBuffers(positions.map(auditRecordKey));
      for (const [i, position] of positions.entries()) {
        const stored = decodeStoredRecord(values[i]);
        if (values[i] === undefined) return { kind: 'deleted', seq: position, message: `record ${position} of lane ${laneId} is missing: deleted` };
        if (stored === undefined) return { kind: 'modified', seq: position, message: `record ${position} of lane ${laneId} is not in the stored record form` };
        if (stored.seq !== position) return { kind: 'reordered', seq: position, message: `position ${position} holds record ${stored.seq}: records were swapped or moved` };
        if (!same(mac.tag(previous, position, stored.sealed), stored.tag)) {
          return { kind: 'modified', seq: position, message: `record ${position} of lane ${laneId} was modified, or a record before it in the lane was removed or replaced: its MAC does not chain` };
        }
        previous = stored.tag;
        count++;
        if (signed !== undefined && position === signed.seq) {
          if (!same(stored.tag, Buffer.from(signed.tag, 'base64')) || (signed.count !== undefined && count !== signed.count)) {
            return { kind: 'modified', seq: position, message: `record ${position} of lane ${laneId} is not the record the checkpoint signed at ${when}: the lane was rewritten from there` };
          }
          signedMatched = true;
        }
        records++;
        last = position;
        if (records % 100_000 === 0) options.onProgress?.(records, 0);
      }
      positions = [];
      return undefined;
    };
    for await (const [key] of db.entries<unknown>(prefix)) {
      positions.push(Number(key.slice(prefix.length)));
      if (positions.length === LANE_READ_BATCH) {
        const problem = await walk();
        if (problem) return finish(problem);
      }
    }
    const problem = await walk();
    if (problem) return finish(problem);
    if (count !== head.count || last !== head.seq) {
      return finish({ kind: count < head.count ? 'truncated' : 'rolled-back', seq: head.seq, message: `lane ${laneId}'s head names ${head.count} records ending at ${head.seq}; its chain holds ${count} ending at ${last}` });
    }
    if (!same(head.tag, previous)) return finish({ kind: 'modified', seq: last, message: `the head of lane ${laneId} does not match its last record ${last}` });
    if (signed !== undefined && !signedMatched) {
      if (last < signed.seq) {
        return finish({ kind: 'rolled-back', seq: last + 1, message: `the checkpoint signed at ${when} names record ${signed.seq} of lane ${laneId}, but the lane ends at ${last}: an older copy of the store was restored, or the lane was cut off together with its head` });
      }
      return finish({ kind: 'modified', seq: signed.seq, message: `lane ${laneId} no longer holds record ${signed.seq}, which the checkpoint signed at ${when} names: the lane was rewritten` });
    }
    vouched.delete(laneId);
    verifiedHeads.push({ lane: laneId, seq: head.seq, count: head.count, tag: head.tag });
    chained += count;
    lastPosition = Math.max(lastPosition, last);
  }
  for (const [laneId, signed] of vouched) {
    return finish({ kind: 'rolled-back', seq: signed.seq, message: `the checkpoint signed at ${when} names lane ${laneId} up to record ${signed.seq}, but the log has no such lane: it was removed, or an older copy of the store was restored` });
  }
  let stored = 0;
  for await (const _ of db.entries<unknown>(AUDIT_RECORD_PREFIX, { gte: AUDIT_RECORD_PREFIX })) stored++;
  if (stored !== chained) return finish({ kind: 'inserted', message: `the store holds ${stored} audit records but the lanes' chains hold ${chained}: ${stored - chained} belong to no chain` });
  return finish(undefined);
}
