// What `audit verify` reports, on either backend (verify.ts: LevelDB's one chain; lane-verify.ts:
// PostgreSQL's chain per lane).
import type { AuditCheckpoint } from './checkpoint.js';
import type { AuditKeys } from './record.js';

export type AuditProblemKind =
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'rolled-back'
  | 'wrong-key'
  | 'bad-checkpoint';

export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** The first bad record, when the problem is one record. */
  readonly seq?: number;
  readonly message: string;
}

export interface AuditVerifyReport {
  readonly ok: boolean;
  /** Records read (every key under the record prefix up to the first problem). */
  readonly records: number;
  /** The last record whose chain verified. */
  readonly verifiedThroughSeq: number;
  readonly head: { readonly seq: number; readonly tag: string } | null;
  readonly checkpoint?: { readonly seq: number; readonly timeMs: number; readonly matched: boolean };
  readonly problem?: AuditProblem;
  readonly elapsedMs: number;
  readonly recordsPerSecond: number;
}

export interface VerifyKeys extends AuditKeys {
  /** The Ed25519 seed of the audit signing key; needed only to check a checkpoint. */
  readonly sign: Buffer;
}

export interface VerifyOptions {
  readonly checkpoint?: AuditCheckpoint;
  /** Called every PROGRESS_INTERVAL_RECORDS records with how many are done of how many the head names. */
  readonly onProgress?: (doneRecords: number, totalRecords: number) => void;
}

