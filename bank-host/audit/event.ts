// What happened, as the audit log records it. Built by the code that performs an action and handed to the
// group committer with the state change it describes, so a record exists exactly when its effect does.
// Never put a password, PIN, PIN block, full PAN or key in any field.

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

/** Turns events into batch operations at the moment a group commit is formed, so records are numbered
 *  and chained in exactly the order their batches reach the disk. */
export interface AuditSink {
  /** Returns the operations that store `events` (records plus the new chain head). Called once per batch,
   *  in commit order; the sink may advance its in-memory head provisionally. */
  prepare(events: readonly AuditEvent[], timestampMs: number): import('../store/database.js').BatchOp[];
  /** The batch from the last `prepare` is durable. */
  committed(): void;
  /** The batch from the last `prepare` failed; roll the in-memory head back. */
  failed(): void;
}
