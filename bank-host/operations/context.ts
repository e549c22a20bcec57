// The contract between the channel (which parses requests, checks sessions and idempotency) and the
// operations (which move money). An operation handler:
//   1. takes the locks it needs from `services.locks` (accounts, cards, authorizations),
//   2. reads current state, validates, computes the change,
//   3. calls `ctx.finish(outcome, change)` INSIDE its locks: that writes the change, the audit events and
//      the idempotency record (the response) in one synced batch, and resolves once it is durable,
//   4. returns the same result (or throws the same ProtocolError) it passed to finish.
// A handler that throws a ProtocolError without calling finish changed nothing; the dispatcher then records
// the failure (audit event + idempotency record) itself.
import type { ProtocolError } from '../../protocol/errors.js';
import type { Logger } from '../../protocol/log.js';
import type { MessageType, RequestBody, ResultOf } from '../../protocol/messages.js';
import type { AuditedChange, AuditedCommitter } from '../audit/event.js';
import type { Database } from '../store/database.js';
import type { KeyedLocks } from '../store/locks.js';
import type { HostConfig } from '../config.js';
import type { HostKeys } from '../keys.js';
import type { Fleet } from '../fleet/fleet.js';
import type { OperatorTokens } from '../fleet/operator-tokens.js';

export interface HostServices {
  readonly db: Database;
  readonly committer: AuditedCommitter;
  readonly locks: KeyedLocks;
  readonly config: HostConfig;
  readonly keys: HostKeys;
  readonly log: Logger;
  readonly now: () => number;
  /** The fleet's state and alerts, fed every kiosk report (the host's state always has one). */
  readonly fleet?: Fleet;
  /** Who may watch the fleet (console and metrics). */
  readonly operators?: OperatorTokens;
}

/** A signed-in customer, bound to one connection; it never outlives the connection. */
export interface CustomerSession {
  readonly sessionId: string;
  readonly customerId: string;
  readonly username: string;
  /** Set when the customer signed in with a card: the card's id (a keyed hash of its PAN) and its last
   *  four digits. The host keeps no PAN once the sign-in is answered. */
  readonly cardId?: string;
  readonly cardLast4?: string;
  /** `supervisor`: a technician signed in with a supervisor card (`customerId` is then the technician's
   *  id): only replenishment operations; absent: a customer, who may do none of them. */
  readonly role?: 'supervisor';
  lastActivityMs: number;
}

export interface ConnectionState {
  readonly connectionId: string;
  readonly deviceId: string;
  /** The version of the device's key the connection's handshake used (the channel sets it). A request on
   *  a connection whose key was revoked or replaced since is never applied. */
  readonly keyVersion?: number;
  /** Set once a request was refused because the connection's key is no longer current: the channel
   *  closes the connection without answering. */
  keyRefused?: boolean;
  session: CustomerSession | undefined;
  /** A customer signed in on this connection at some point; a replayed sign-in never re-opens a session here. */
  hadSession?: boolean;
}

export type Outcome<T extends MessageType> = { readonly result: ResultOf<T> } | { readonly error: ProtocolError };

export interface RequestContext<T extends MessageType> {
  readonly services: HostServices;
  readonly connection: ConnectionState;
  readonly requestId: string;
  readonly type: T;
  /** The host's clock when the request was accepted. */
  readonly nowMs: number;
  /** The kiosk's clock when it sent the request (its envelope's timestamp, within the skew window). */
  readonly sentAtMs: number;
  /** The PIN key of the requesting device (HKDF from its K_SHARED). Never log it. */
  devicePinKey(): Buffer;
  /** Writes `change` plus this request's idempotency record holding `outcome`, durably. Call once. */
  finish(outcome: Outcome<T>, change: AuditedChange): Promise<void>;
}

export type OperationHandler<T extends MessageType> = (
  ctx: RequestContext<T>,
  body: RequestBody<T>,
) => Promise<ResultOf<T>>;

export type OperationTable = { readonly [T in MessageType]?: OperationHandler<T> };
