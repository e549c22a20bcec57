// `audit verify` on PostgreSQL: every lane's chain (lane-chain.ts) walked from its genesis, in position
// order, each record's MAC checked against the previous tag of its lane, each lane's head against its last
// record and record count; then every record in the store must belong to exactly one verified chain (a
// record in no lane's index was inserted; a record a lane's index names but the store lacks was deleted).
// Like LevelDB's verify it never decrypts. A checkpoint (one chain's position and tag) is LevelDB's alone.
import { timingSafeEqual } from 'node:crypto';
import type { KeyValueStore } from '../store/host-store.js';
import { AUDIT_LANE_HEAD_PREFIX, LEVELDB_LANE_ID, laneIndexPrefix, parseLaneHead } from './lane-chain.js';
import { AUDIT_KEY_CHECK_KEY, AUDIT_RECORD_PREFIX, type AuditKeys, type StoredKeyCheck, ChainMac, auditRecordKey, decodeStoredRecord, genesisTag, keyCheck, laneGenesisTag } from './record.js';
import type { AuditProblem, AuditVerifyReport, VerifyOptions } from './verify-report.js';

/** Records fetched per step while walking a lane. */
const LANE_READ_BATCH = 1_024;
/** Lanes a store may hold (hosts × their pool size, with room for hosts replaced over the years). */
export const AUDIT_LANES_MAX = 100_000;

const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export interface LaneVerifyDetail {
  readonly lanes: number;
}

export async function verifyLaneChains(db: KeyValueStore, keys: AuditKeys, options: VerifyOptions = {}): Promise<AuditVerifyReport & LaneVerifyDetail> {
  const startedMs = performance.now();
  let records = 0;
  let lanes = 0;
  let lastPosition = 0;
  const finish = (problem: AuditProblem | undefined) => {
    const elapsedMs = performance.now() - startedMs;
    return {
      ok: problem === undefined,
      records,
      lanes,
      verifiedThroughSeq: lastPosition,
      head: null,
      ...(problem !== undefined && { problem }),
      elapsedMs: Math.round(elapsedMs),
      recordsPerSecond: elapsedMs > 0 ? Math.round((records / elapsedMs) * 1000) : 0,
    };
  };
  if (options.checkpoint !== undefined) {
    return finish({ kind: 'bad-checkpoint', message: 'checkpoints name one chain; on PostgreSQL the log is one chain per lane, so a checkpoint cannot be checked here' });
  }
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
    chained += count;
    lastPosition = Math.max(lastPosition, last);
  }
  let stored = 0;
  for await (const _ of db.entries<unknown>(AUDIT_RECORD_PREFIX, { gte: AUDIT_RECORD_PREFIX })) stored++;
  if (stored !== chained) return finish({ kind: 'inserted', message: `the store holds ${stored} audit records but the lanes' chains hold ${chained}: ${stored - chained} belong to no chain` });
  return finish(undefined);
}
