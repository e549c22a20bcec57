// `audit verify`: walks the whole chain in sequence order, checks every record's MAC against the previous
// tag, then the stored head and (when given) a signed checkpoint, and names the first bad record and what is
// wrong with it. It never decrypts: the chain MAC covers the sealed bytes, so a flipped ciphertext bit is
// caught without the encryption key being used, and the loop stays at HMAC speed.
import { timingSafeEqual } from 'node:crypto';
import { Database } from '../store/database.js';
import type { KeyValueStore } from '../store/host-store.js';
import { verifyLanesInSnapshot } from './lane-verify.js';
import { parseStoredHead } from './chain.js';
import { type ChainCheckpoint, LANE_CHECKPOINT_FORMAT, checkpointSeq, checkpointSignatureValid } from './checkpoint.js';
import {
  AUDIT_HEAD_KEY,
  AUDIT_KEY_CHECK_KEY,
  AUDIT_RECORD_PREFIX,
  type AuditKeys,
  type StoredKeyCheck,
  ChainMac,
  decodeStoredRecord,
  genesisTag,
  keyCheck,
  seqOfRecordKey,
} from './record.js';

export type { AuditProblem, AuditProblemKind, AuditVerifyReport, VerifyKeys, VerifyOptions } from './verify-report.js';
import type { AuditProblem, AuditVerifyReport, VerifyKeys, VerifyOptions } from './verify-report.js';

export const PROGRESS_INTERVAL_RECORDS = 100_000;
/** Records read from LevelDB per step: large enough to amortize the async hop, small enough to bound memory. */
const READ_BATCH_RECORDS = 4_096;

interface Slot {
  readonly key: string;
  readonly raw: Buffer | undefined;
}

const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/** Verifies the audit log of either backend: LevelDB's one chain, or PostgreSQL's chain per lane. */
export async function verifyAuditChain(db: KeyValueStore, keys: VerifyKeys, options: VerifyOptions = {}): Promise<AuditVerifyReport> {
  if (!(db instanceof Database)) {
    // One snapshot for every lane's head and records: on a serving host, lanes grow while they are walked.
    const { laneHeads: _, ...report } = await verifyLanesInSnapshot(db, keys, options);
    return report;
  }
  const checkpoint = options.checkpoint;
  if (checkpoint?.format === LANE_CHECKPOINT_FORMAT) {
    return {
      ok: false,
      records: 0,
      verifiedThroughSeq: 0,
      head: null,
      checkpoint: { seq: checkpointSeq(checkpoint), timeMs: checkpoint.timeMs, matched: false },
      problem: { kind: 'bad-checkpoint', message: "this checkpoint names a PostgreSQL log's lanes; this log is LevelDB's one chain" },
      elapsedMs: 0,
      recordsPerSecond: 0,
    };
  }
  const { onProgress } = options;
  return verifyLevelChain(db, keys, { ...(checkpoint !== undefined && { checkpoint }), ...(onProgress !== undefined && { onProgress }) });
}

async function verifyLevelChain(db: Database, keys: VerifyKeys, options: Omit<VerifyOptions, 'checkpoint'> & { checkpoint?: ChainCheckpoint }): Promise<AuditVerifyReport> {
  const startedMs = performance.now();
  // One snapshot for head, key check and records: on a serving host, records appended while we walk must
  // not look like records beyond the head.
  const snapshot = db.level.snapshot();
  let records = 0;
  let expected = 1;
  let previousTag = genesisTag(keys.mac);
  const mac = new ChainMac(keys.mac);
  let checkpointTag: Buffer | undefined;
  let head: ReturnType<typeof parseStoredHead>;
  let storedHead: { seq: number; tag: string } | null = null;

  const finish = (problem: AuditProblem | undefined): AuditVerifyReport => {
    const elapsedMs = performance.now() - startedMs;
    const cp = options.checkpoint;
    return {
      ok: problem === undefined,
      records,
      verifiedThroughSeq: expected - 1,
      head: storedHead,
      ...(cp !== undefined && {
        checkpoint: { seq: cp.seq, timeMs: cp.timeMs, matched: problem === undefined },
      }),
      ...(problem !== undefined && { problem }),
      elapsedMs: Math.round(elapsedMs),
      recordsPerSecond: elapsedMs > 0 ? Math.round((records / elapsedMs) * 1000) : 0,
    };
  };

  try {
    if (options.checkpoint !== undefined && !checkpointSignatureValid(keys.sign, options.checkpoint)) {
      return finish({ kind: 'bad-checkpoint', message: "the checkpoint's signature does not verify under this host's audit signing key (forged, altered, or from another host)" });
    }
    const [rawHead, rawCheck] = (await db.level.getMany([AUDIT_HEAD_KEY, AUDIT_KEY_CHECK_KEY], { snapshot })) as [unknown, StoredKeyCheck | undefined];
    if (rawCheck !== undefined) {
      const expectedCheck = keyCheck(keys);
      if (rawCheck.mac !== expectedCheck.mac) return finish({ kind: 'wrong-key', message: 'the audit MAC key is not the one this log was written with; nothing can be verified with it' });
      if (rawCheck.enc !== expectedCheck.enc) return finish({ kind: 'wrong-key', message: 'the audit encryption key is not the one this log was written with; records could not be decrypted' });
    }
    head = rawHead === undefined ? undefined : parseStoredHead(rawHead);
    if (rawHead !== undefined && head === undefined) return finish({ kind: 'modified', message: 'the stored chain head (audit:head) is malformed' });
    if (head !== undefined) storedHead = { seq: head.seq, tag: head.tag.toString('base64') };
    const totalRecords = head?.seq ?? 0;
    const cpSeq = options.checkpoint?.seq;
    if (cpSeq === 0) checkpointTag = previousTag;

    const iterator = db.level.iterator<string, Buffer>({
      gt: AUDIT_RECORD_PREFIX,
      lt: AUDIT_RECORD_PREFIX + '\xff',
      keyEncoding: 'utf8',
      valueEncoding: 'buffer',
      snapshot,
      // One pass over the whole log: its blocks would only evict the serving host's hot ones from the cache.
      fillCache: false,
    });
    let problem: AuditProblem | undefined;
    try {
      let current: Slot | undefined;
      // Each record is judged with the one after it in view: a bad MAC reads differently when the next
      // record chains from what this record should have been (a changed tag) or is this record moved up
      // one place (an insertion).
      const judge = (slot: Slot, next: Slot | undefined): AuditProblem | undefined => {
        records++;
        const keySeq = seqOfRecordKey(slot.key);
        if (keySeq === undefined) return { kind: 'inserted', seq: expected, message: `a foreign key ${JSON.stringify(slot.key)} was inserted among the records after record ${expected - 1}` };
        if (keySeq > expected) {
          const missing = keySeq - 1 === expected ? `record ${expected} is` : `records ${expected}-${keySeq - 1} are`;
          return { kind: 'deleted', seq: expected, message: `${missing} missing: deleted from the middle of the log (record ${keySeq} is the next one present)` };
        }
        const stored = decodeStoredRecord(slot.raw);
        if (stored === undefined) return { kind: 'modified', seq: expected, message: `record ${expected} is not in the stored record form (its value was overwritten)` };
        if (stored.seq !== expected) {
          return { kind: 'reordered', seq: expected, message: `position ${expected} holds record ${stored.seq}: records were swapped or moved` };
        }
        const computed = mac.tag(previousTag, expected, stored.sealed);
        if (same(computed, stored.tag)) {
          if (expected === cpSeq) checkpointTag = stored.tag;
          previousTag = stored.tag;
          expected++;
          return undefined;
        }
        if (head !== undefined && expected > head.seq) {
          return { kind: 'inserted', seq: expected, message: `record ${expected} lies beyond the head (record ${head.seq}) and does not verify: a forged record was appended` };
        }
        const after = decodeStoredRecord(next?.raw);
        if (after !== undefined && after.seq === expected && same(mac.tag(previousTag, expected, after.sealed), after.tag)) {
          return { kind: 'inserted', seq: expected, message: `a forged record was inserted at position ${expected}; the genuine record ${expected} follows it, shifted up one place` };
        }
        if (after !== undefined && after.seq === expected + 1 && same(mac.tag(computed, expected + 1, after.sealed), after.tag)) {
          return { kind: 'modified', seq: expected, message: `record ${expected}'s tag was changed (its ciphertext still chains into record ${expected + 1})` };
        }
        return { kind: 'modified', seq: expected, message: `record ${expected} was modified: its ciphertext or tag does not match the chain MAC` };
      };

      // The next batch is read (on LevelDB's thread) while this one is checked (on ours).
      let reading = iterator.nextv(READ_BATCH_RECORDS);
      for (;;) {
        const batch = await reading;
        if (batch.length === 0) break;
        reading = iterator.nextv(READ_BATCH_RECORDS);
        for (const [key, raw] of batch) {
          const slot: Slot = { key, raw };
          if (current !== undefined) {
            problem = judge(current, slot);
            if (problem) break;
            if (records % PROGRESS_INTERVAL_RECORDS === 0) options.onProgress?.(records, totalRecords);
          }
          current = slot;
        }
        if (problem) {
          // Settle the read in flight before the iterator closes.
          await reading.catch(() => undefined);
          break;
        }
      }
      if (!problem && current !== undefined) problem = judge(current, undefined);
    } finally {
      await iterator.close();
    }
    if (problem) return finish(problem);
    if (records >= PROGRESS_INTERVAL_RECORDS) options.onProgress?.(records, totalRecords);

    const lastSeq = expected - 1;
    if (head === undefined) {
      if (lastSeq > 0) return finish({ kind: 'deleted', message: `the chain head (audit:head) is missing although the log holds ${lastSeq} records` });
    } else if (head.seq > lastSeq) {
      const missing = head.seq === lastSeq + 1 ? `record ${head.seq} is` : `records ${lastSeq + 1}-${head.seq} are`;
      return finish({ kind: 'truncated', seq: lastSeq + 1, message: `${missing} missing: the log was truncated at the end (the head names record ${head.seq}, the log ends at ${lastSeq})` });
    } else if (head.seq < lastSeq) {
      return finish({ kind: 'rolled-back', seq: head.seq + 1, message: `the head was rolled back: it names record ${head.seq}, but valid records continue to ${lastSeq}` });
    } else if (!same(head.tag, previousTag)) {
      return finish({ kind: 'modified', seq: lastSeq, message: `the head's tag does not match record ${lastSeq}: the head or the last record was replaced` });
    }

    const cp = options.checkpoint;
    if (cp !== undefined) {
      const when = new Date(cp.timeMs).toISOString();
      if (cp.seq > lastSeq) {
        return finish({
          kind: 'rolled-back',
          seq: lastSeq + 1,
          message: `the checkpoint signed at ${when} names record ${cp.seq}, but the log ends at ${lastSeq}: an older copy of the store was restored, or the log was truncated together with its head`,
        });
      }
      if (checkpointTag === undefined || !same(checkpointTag, Buffer.from(cp.tag, 'base64'))) {
        return finish({ kind: 'modified', seq: cp.seq, message: `record ${cp.seq} is not the record the checkpoint signed at ${when}: the log was rewritten from there` });
      }
    }
    return finish(undefined);
  } finally {
    await snapshot.close();
  }
}
