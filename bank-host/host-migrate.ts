// `bank-host migrate`: copies a stopped LevelDB host's complete state into an empty PostgreSQL database, in
// one transaction: every key and value as it is (audit records as their raw bytes), the LevelDB audit chain
// indexed as the lane `leveldb` so `audit verify` walks it there, and the store's numbers raised past its
// last record. Before committing it verifies the copy through the same transaction (the ledger check, the
// audit verify and the counts per namespace, each against the source's), so a copy that does not verify
// is rolled back and the target is left empty. A target that holds any key is refused: a migration runs
// once (a second run, or one over a database a host already serves, changes nothing).
import { AUDIT_HEAD_KEY, AUDIT_RECORD_PREFIX, seqOfRecordKey } from './audit/record.js';
import { LEVELDB_LANE_ID, laneHeadKey, laneIndexKey, type StoredLaneHead } from './audit/lane-chain.js';
import { parseStoredHead } from './audit/chain.js';
import { verifyAuditChain } from './audit/verify.js';
import type { AuditVerifyReport } from './audit/verify-report.js';
import { HostError } from './errors.js';
import type { HostKeys } from './keys.js';
import { checkLedger, type LedgerReport } from './ledger/check.js';
import type { Database } from './store/database.js';
import type { BatchOp } from './store/host-store.js';
import type { PostgresStore } from './store/postgres/index.js';

/** Keys written per statement of the copy. */
export const MIGRATE_BATCH_KEYS = 1_000;
/** A progress line every this many keys. */
export const MIGRATE_PROGRESS_KEYS = 10_000;
/** The lock the migration holds, so two migrations into one database cannot both find it empty. */
const MIGRATION_LOCK_KEY = 'store:migration';
/** Written last: when and from how many keys the database was made. */
export const MIGRATION_MARKER_KEY = 'store:migrated';

export interface MigrationSummary {
  readonly keys: number;
  readonly auditRecords: number;
  readonly countsByNamespace: Readonly<Record<string, number>>;
  readonly ledger: LedgerReport;
  readonly audit: AuditVerifyReport;
}

/** The namespace of a key: what comes before its first colon. */
const namespaceOf = (key: string) => key.slice(0, Math.max(0, key.indexOf(':'))) || key;

async function countByNamespace(entries: AsyncGenerator<[string, unknown]>, except: (key: string) => boolean): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const [key] of entries) {
    if (except(key)) continue;
    const name = namespaceOf(key);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

export async function migrateToPostgres(source: Database, target: PostgresStore, keys: HostKeys, progress: (text: string) => void, nowMs: number): Promise<MigrationSummary> {
  const verifyKeys = { enc: keys.auditEnc, mac: keys.auditMac, sign: keys.auditSign };
  progress('checking the source: ledger check and audit verify');
  const sourceLedger = await checkLedger(source);
  if (!sourceLedger.ok) throw new HostError('LEDGER_INVARIANT', `the source's ledger check fails (${sourceLedger.problems[0]?.message ?? 'problems'}): fix it before migrating`);
  const sourceAudit = await verifyAuditChain(source, verifyKeys);
  if (!sourceAudit.ok) throw new HostError('AUDIT_INVALID', `the source's audit log does not verify (${sourceAudit.problem?.message ?? 'problem'}): nothing was copied`);
  const head = parseStoredHead(await source.get<unknown>(AUDIT_HEAD_KEY));

  return target.unitOfWork([MIGRATION_LOCK_KEY], async (unit) => {
    for await (const [key] of target.entries<unknown>('', { gte: '', lte: '\uffff', limit: 1 })) {
      throw new HostError('FAILED', `the target database already holds keys (the first: ${JSON.stringify(key.slice(0, 40))}): a migration ran there, or a host serves it; nothing was copied`);
    }
    let copied = 0;
    let auditRecords = 0;
    let batch: BatchOp[] = [];
    const flush = async () => {
      await unit.write(batch);
      batch = [];
    };
    const iterator = source.level.iterator<string, Buffer>({ keyEncoding: 'utf8', valueEncoding: 'buffer' });
    try {
      for await (const [key, raw] of iterator) {
        if (key.startsWith(AUDIT_RECORD_PREFIX)) {
          batch.push({ type: 'put', key, value: raw, valueEncoding: 'buffer' });
          const seq = seqOfRecordKey(key);
          if (seq !== undefined) {
            batch.push({ type: 'put', key: laneIndexKey(LEVELDB_LANE_ID, seq), value: '' });
            auditRecords++;
          }
        } else {
          batch.push({ type: 'put', key, value: JSON.parse(raw.toString('utf8')) as unknown });
        }
        copied++;
        if (batch.length >= MIGRATE_BATCH_KEYS) await flush();
        if (copied % MIGRATE_PROGRESS_KEYS === 0) progress(`copied ${copied.toLocaleString('en-US')} keys`);
      }
    } finally {
      await iterator.close();
    }
    if (head !== undefined) {
      const laneHead: StoredLaneHead = { seq: head.seq, tag: head.tag.toString('base64'), count: auditRecords };
      batch.push({ type: 'put', key: laneHeadKey(LEVELDB_LANE_ID), value: laneHead });
      await flush();
      await unit.raiseNumbers(head.seq);
    }
    await flush();
    progress(`copied ${copied.toLocaleString('en-US')} keys (${auditRecords.toLocaleString('en-US')} audit records); verifying the copy`);

    // Read back through this transaction: what would be committed.
    const ledger = await checkLedger(target);
    if (!ledger.ok || ledger.accounts !== sourceLedger.accounts || ledger.postingLegs !== sourceLedger.postingLegs || ledger.totalBalanceCents !== sourceLedger.totalBalanceCents || ledger.customerBalanceCents !== sourceLedger.customerBalanceCents) {
      throw new HostError('LEDGER_INVARIANT', `the copy's ledger check differs from the source's (${JSON.stringify({ ok: ledger.ok, accounts: ledger.accounts, postingLegs: ledger.postingLegs })}): rolled back, nothing was copied`);
    }
    const audit = await verifyAuditChain(target, verifyKeys);
    if (!audit.ok || audit.records !== sourceAudit.records) {
      throw new HostError('AUDIT_INVALID', `the copy's audit log does not verify (${audit.problem?.message ?? `${audit.records} records of ${sourceAudit.records}`}): rolled back, nothing was copied`);
    }
    const isAdded = (key: string) => key.startsWith('audit:lane');
    const everything = { gte: '', lte: '\uffff' };
    // The source's values read as bytes (its audit records are not JSON); the target's as stored.
    const sourceCounts = await countByNamespace(source.bufferEntries('', everything), () => false);
    const targetCounts = await countByNamespace(target.entries<unknown>('', everything), isAdded);
    if (JSON.stringify(sourceCounts) !== JSON.stringify(targetCounts)) {
      throw new HostError('FAILED', `the copy's keys per namespace differ from the source's (${JSON.stringify(targetCounts)} against ${JSON.stringify(sourceCounts)}): rolled back, nothing was copied`);
    }
    await target.commit([{ type: 'put', key: MIGRATION_MARKER_KEY, value: { atMs: nowMs, keys: copied, auditRecords, lastAuditSeq: head?.seq ?? 0 } }]);
    progress('committed');
    return { keys: copied, auditRecords, countsByNamespace: sourceCounts, ledger, audit };
  });
}

