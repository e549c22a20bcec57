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
import type { KeyValueStore, RequestScope, StoreBackend, StoreLocks } from '../store/host-store.js';
import type { HostConfig } from '../config.js';
import type { HostKeys } from '../keys.js';
import type { Fleet } from '../fleet/fleet.js';
import type { OperatorTokens } from '../fleet/operator-tokens.js';
import type { VendorCa } from '../../protocol/pin-key-delivery.js';

export interface HostServices {
  readonly db: KeyValueStore;
  readonly committer: AuditedCommitter;
  readonly locks: StoreLocks;
  /** How a request's work runs so that copies of it on every host take turns (store/host-store.ts); absent:
   *  as it is (one process). */
  readonly requests?: RequestScope;
  /** The store's backend (absent: LevelDB). */
  readonly backend?: StoreBackend;
  readonly config: HostConfig;
  readonly keys: HostKeys;
  readonly log: Logger;
  readonly now: () => number;
  /** The fleet's state and alerts, fed every kiosk report (the host's state always has one). */
  readonly fleet?: Fleet;
  /** Who may watch the fleet (console and metrics). */
  readonly operators?: OperatorTokens;
  /** The EPP vendors whose PIN pads may receive a PIN key (`epp-vendor-cas` beside host.json). */
  readonly eppVendorCas?: readonly VendorCa[];
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
  /** The requesting device's PIN encryption key (random, wrapped under the master key; never derived from
   *  K_SHARED), its version and check value. NO_PIN_KEY when it has none. The caller zeroes `key`; never
   *  log it. */
  devicePinKey(): DevicePinKey;
  /** Pins the EPP to the requesting device (the first time), or refuses another one (EPP_MISMATCH). */
  enrollEpp(epp: EnrolledEpp): Promise<void>;
  /** Writes `change` plus this request's idempotency record holding `outcome`, durably. Call once. */
  finish(outcome: Outcome<T>, change: AuditedChange): Promise<void>;
}

export interface DevicePinKey {
  readonly key: Buffer;
  readonly version: number;
  readonly kcv: string;
}

export interface EnrolledEpp {
  readonly vendor: string;
  readonly serial: string;
  /** X25519 public key, hex. */
  readonly publicKey: string;
}

/** Where the dispatcher finds PIN keys and enrolls PIN pads: the device registry. */
export interface PinKeySource {
  pinKeyOf(deviceId: string): DevicePinKey | undefined;
  enrollEpp(deviceId: string, epp: EnrolledEpp): Promise<void>;
}

/** What a request is known by before its handler runs. */
export interface RequestFacts {
  readonly deviceId: string;
  readonly session: CustomerSession | undefined;
  readonly nowMs: number;
  readonly config: HostServices['config'];
  /** A record this host wrote lately (one whose prefix a handler `recalls`), as it wrote it: for naming
   *  locks, never for reading (another host may have changed it since). */
  recall<R>(key: string): R | undefined;
}

/** The keys a handler will read, known from the request alone: on a store shared by several hosts they are
 *  read with the request's BEGIN, in the same round trip (store/host-store.ts, RequestScope). Only a hint:
 *  a key left out is read when asked for, one named and not read costs a row. */
export type ReadHint<T extends MessageType> = (request: RequestFacts, body: RequestBody<T>) => readonly string[];

/** The keys a handler will lock (with `withLocks`), known from the request alone: on a store shared by
 *  several hosts they are locked, and read under their locks, with the request's BEGIN, so the handler's
 *  `withLocks` finds them held and costs no round trip. Name exactly what the handler locks: a key left out
 *  is locked when asked for, in a second step; a key named and not locked is held for nothing. */
export type LockHint<T extends MessageType> = ReadHint<T>;

export type OperationHandler<T extends MessageType> = ((ctx: RequestContext<T>, body: RequestBody<T>) => Promise<ResultOf<T>>) & {
  readonly reads?: ReadHint<T>;
  readonly locks?: LockHint<T>;
  /** Key prefixes of records the lock hint recalls (RequestFacts.recall): the host remembers what its
   *  requests write under them. */
  readonly recalls?: readonly string[];
  /** Its work spends long on the CPU inside the request's unit of work (a password's scrypt): on PostgreSQL it
   *  never joins a group commit, whose other requests would wait for it (RequestScopeOptions.alone). */
  readonly slow?: true;
};

export type OperationTable = { readonly [T in MessageType]?: OperationHandler<T> };
