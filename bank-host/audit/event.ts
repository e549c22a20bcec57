// What happened, as the audit log records it. Built by the code that performs an action and handed to the
// group committer with the state change it describes, so a record exists exactly when its effect does.
// Never put a password, PIN, PIN block, full PAN or key in any field.
import type { Change, CommitSink } from '../store/group-commit.js';
import type { StoreCommitter } from '../store/host-store.js';

export type AuditOutcome = 'ok' | 'failed' | 'refused';

export interface AuditEvent {
  /** A stable action name, e.g. `withdraw.authorize`, `signin.card`, `device.revoke`, `handshake`. */
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly customerId?: string;
  readonly deviceId?: string;
  /** `operator` for admin CLI actions. */
  readonly actor?: string;
  readonly amountCents?: number;
  readonly requestId?: string;
  /** A short machine-readable reason for failed or refused outcomes (an error code). */
  readonly reason?: string;
  /** Extra non-secret facts, e.g. the last four digits of a PAN or an account id. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** What the audit chain is to the group committer: it turns each batch's events into the records and the
 *  new chain head, written in that batch. */
export type AuditSink = CommitSink<AuditEvent>;

/** A state change with the audit events that describe it. */
export type AuditedChange = Change<AuditEvent>;

/** The host's committer (the group committer on LevelDB, units of work on PostgreSQL): every change it
 *  writes carries audit events. */
export type AuditedCommitter = StoreCommitter<AuditEvent>;
