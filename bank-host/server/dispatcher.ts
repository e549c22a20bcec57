// Turns one decoded frame into one response. Order of checks: envelope, clock window, type, body,
// idempotency (a retry returns the first answer before anything else can differ), session, handler.
import type { z } from 'zod';
import { errorResponse, isFieldName, parseRequestEnvelope, requestIdOf, resultResponse, type ResponseEnvelope } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import { TIMESTAMP_SKEW_MS } from '../../protocol/limits.js';
import { isMessageType, MESSAGES, SESSIONLESS_TYPES, type MessageType, type RequestBody } from '../../protocol/messages.js';
import type { AuditedChange, AuditEvent } from '../audit/event.js';
import { cardIdOf } from '../customers/card-protection.js';
import { panLast4 } from '../customers/records.js';
import { DEVICE_KEY_PREFIX, type DeviceRecord } from '../devices/registry.js';
import { describe } from '../errors.js';
import { CommitGuardError, guardHolds, type CommitGuard } from '../store/host-store.js';
import { RecentRecords } from './recent-records.js';
import type { ConnectionState, HostServices, OperationHandler, OperationTable, Outcome, PinKeySource, ReadHint, RequestContext, RequestFacts } from '../operations/context.js';
import {
  bodyHash,
  idempotencyKey,
  idempotencyOps,
  readIdempotencyRecord,
  type IdempotencyRecord,
  type StoredSession,
  type StoredOutcome,
} from './idempotency.js';

/** Types answered without an idempotency record: they change no state (or, for a kiosk's status report,
 *  a state a repeat leaves the same: an older report never replaces a newer one), so a retry may simply run
 *  again (and their answers, such as decrypted audit lines, are not kept a second time on disk). */
const UNRECORDED_TYPES: ReadonlySet<MessageType> = new Set(['ping', 'balance', 'history', 'activity', 'kiosk.status', 'pinkey.fetch'] as MessageType[]);
/** A replayed sign-in binds its session only this soon after the original: long enough for a kiosk to
 *  reconnect after a lost answer, too short for an old request to re-open a finished session. */
export const SIGN_IN_REPLAY_WINDOW_MS = 60_000;
const SIGN_IN_TYPES: ReadonlySet<MessageType> = new Set(['register', 'signin.password', 'signin.card']);

export interface DispatcherDeps {
  readonly services: HostServices;
  readonly operations: OperationTable;
  /** The PIN encryption keys of the devices, and their PIN pads' enrollment (the device registry). */
  readonly pinKeys: PinKeySource;
  /** Whether the key the connection's handshake used is still the device's current key (the device
   *  registry's `isKeyCurrent`). Synchronous: it is asked in the same turn as a change is handed to the
   *  committer. The host always gives it; a dispatcher without a device registry (a benchmark's) serves
   *  every connection. */
  readonly isKeyCurrent?: (deviceId: string, keyVersion: number | undefined) => boolean;
}

/** A request on a connection whose key was revoked or replaced: nothing of it is applied or recorded. */
class StaleKeyRefusal extends Error {
  constructor() {
    super('the key this connection was made with was revoked or replaced');
  }
}

export class Dispatcher {
  /** Requests being processed, by device and id, so a retry racing its original waits for it. */
  private readonly inFlight = new Map<string, Promise<ResponseEnvelope>>();

  /** Records this host's requests wrote lately, for lock hints (only on a store with request scopes). */
  private readonly recent: RecentRecords;
  private readonly recall = <R>(key: string): R | undefined => this.recent.recall<R>(key);

  constructor(private readonly deps: DispatcherDeps) {
    const recalled = Object.values(deps.operations).flatMap((handler) => (handler as OperationHandler<MessageType> | undefined)?.recalls ?? []);
    this.recent = new RecentRecords(deps.services.requests === undefined ? [] : [...new Set(recalled)]);
  }

  async dispatch(connection: ConnectionState, document: unknown): Promise<ResponseEnvelope> {
    let requestId = requestIdOf(document) ?? '';
    try {
      // Revocation is absolute: after `device revoke` or `rotate` returns, nothing is answered or applied
      // for a connection made with the old key, whatever it had in flight (checked again before a replayed
      // sign-in binds and as the change is handed to the committer).
      this.requireCurrentKey(connection);
      const envelope = parseRequestEnvelope(document);
      requestId = envelope.id;
      const nowMs = this.deps.services.now();
      if (Math.abs(envelope.ts - nowMs) > TIMESTAMP_SKEW_MS) {
        throw new ProtocolError('STALE_TIMESTAMP', `timestamp is ${Math.round((envelope.ts - nowMs) / 1000)} s from the host clock; the window is ±${TIMESTAMP_SKEW_MS / 1000} s`);
      }
      if (!isMessageType(envelope.type)) {
        // The name passed the envelope's type rule; a long digit run in it is not a type name, so not echoed.
        throw new ProtocolError('UNKNOWN_TYPE', /[0-9]{4}/.test(envelope.type) ? 'unknown message type' : `unknown message type ${JSON.stringify(envelope.type)}`);
      }
      const type = envelope.type;
      const body = parseBody(type, envelope.body);
      if (type === 'ping') return resultResponse(requestId, { hostTimeMs: nowMs });

      // Copies of one request (a retry on another connection while the first still runs) take turns: each
      // waits for the copy in flight, then runs alone, and running starts by looking for the answer the
      // copy before it stored. Only when that copy stored none (it failed with a retryable error) does the
      // handler run again, one copy at a time, so an effect is applied at most once.
      const flightKey = `${connection.deviceId}:${requestId}`;
      for (let running = this.inFlight.get(flightKey); running !== undefined; running = this.inFlight.get(flightKey)) {
        await running.catch(() => undefined);
      }
      // No await between the check above and this: the copy is the only one in flight from here.
      // On PostgreSQL the copy runs as one unit of work holding the request's idempotency key, so copies
      // on other hosts take turns with it too (store/host-store.ts, RequestScope). A type answered without
      // a record runs in one as well: its reads come with the unit's BEGIN and its audit record with the
      // unit's commit, two round trips where reads and a unit of their own took six (a balance).
      const requests = this.deps.services.requests;
      const hints = requests === undefined ? undefined : this.hints(connection, type, body, nowMs);
      const deviceKey = DEVICE_KEY_PREFIX + connection.deviceId;
      const work =
        requests === undefined
          ? this.runOnce(connection, type, requestId, body, nowMs, envelope.ts)
          : requests.run(
              idempotencyKey(connection.deviceId, requestId),
              async () => {
                // A revoked connection gets no answer, a stored one included (this host's registry may be a
                // second behind the store); a change is checked again as it is committed (record, below).
                await this.requireStoredKeyCurrent(connection);
                return this.runOnce(connection, type, requestId, body, nowMs, envelope.ts);
              },
              // The device's record, read with the unit's BEGIN for the check above, and what the handler
              // says it will read; and the keys it says it will lock, locked there. The device's record is
              // locked there too (shared, after the others), so the check above stands until the change
              // commits: a revocation on any host waits for this request, and its commit sends no check of
              // its own. Not a slow request's (a password's scrypt): a revocation would wait for it, so its
              // record is locked and read again in its commit's message instead (currentKeyGuard).
              [deviceKey, ...hints!.reads],
              hints!.locks,
              { alone: hints!.slow, ...(!hints!.slow && { guardKey: deviceKey }) },
            );
      this.inFlight.set(flightKey, work);
      try {
        return await work;
      } finally {
        if (this.inFlight.get(flightKey) === work) this.inFlight.delete(flightKey);
      }
    } catch (error) {
      if (error instanceof StaleKeyRefusal) return this.refuseStaleKey(connection, requestId);
      if (error instanceof ProtocolError) return errorResponse(requestId, error);
      this.deps.services.log.error('request failed', { requestId, deviceId: connection.deviceId, error: describe(error) });
      return errorResponse(requestId, new ProtocolError('INTERNAL', undefined, true));
    }
  }

  /** The keys the request's handler will read or lock, as it says (OperationHandler.reads, .locks); none
   *  when it does not say or its hint fails: a hint never fails a request. */
  private hints(connection: ConnectionState, type: MessageType, body: unknown, nowMs: number): { reads: readonly string[]; locks: readonly string[]; slow: boolean } {
    const handler = this.deps.operations[type] as OperationHandler<MessageType> | undefined;
    const facts: RequestFacts = { deviceId: connection.deviceId, session: connection.session, nowMs, config: this.deps.services.config, recall: this.recall };
    const hint = (named: ReadHint<MessageType> | undefined): readonly string[] => {
      if (named === undefined) return [];
      try {
        return named(facts, body as RequestBody<MessageType>);
      } catch {
        return [];
      }
    };
    return { reads: hint(handler?.reads), locks: hint(handler?.locks), slow: handler?.slow === true };
  }

  /** On a store shared by several hosts, inside the request's unit: the device's record as stored must
   *  still name the connection's key (what this host holds in memory may be a second old): the condition
   *  its change commits under (currentKeyGuard), checked here on the record read with the unit's BEGIN. */
  private async requireStoredKeyCurrent(connection: ConnectionState): Promise<void> {
    const guard = currentKeyGuard(connection);
    if (!guardHolds(await this.deps.services.db.get<DeviceRecord>(guard.key), guard)) throw new StaleKeyRefusal();
  }

  private requireCurrentKey(connection: ConnectionState): void {
    if (connection.keyRefused || this.deps.isKeyCurrent?.(connection.deviceId, connection.keyVersion) === false) throw new StaleKeyRefusal();
  }

  /** The answer to a request refused for its connection's key. The channel never sends it: it closes the
   *  connection, so the kiosk sees DISCONNECTED, as for every request in flight when its key was revoked,
   *  and may retry with the same id once it connects with its current key. The first refusal on a
   *  connection is audited (the connection did prove the key before it was revoked). */
  private refuseStaleKey(connection: ConnectionState, requestId: string): ResponseEnvelope {
    const { services } = this.deps;
    if (!connection.keyRefused) {
      connection.keyRefused = true;
      const event: AuditEvent = {
        action: 'request',
        outcome: 'refused',
        // The device was revoked, or its key replaced, after this connection's handshake.
        reason: 'stale-key',
        deviceId: connection.deviceId,
        ...(requestId !== '' && { requestId }),
        ...(connection.keyVersion !== undefined && { detail: { keyVersion: connection.keyVersion } }),
      };
      services.log.warn('request refused: the connection\'s key was revoked or replaced', { deviceId: connection.deviceId, connectionId: connection.connectionId, reason: event.reason });
      services.committer.commit({ ops: [], events: [event] }).catch((error) => services.log.error('could not record event', { action: event.action, error: describe(error) }));
    }
    return errorResponse(requestId, new ProtocolError('DISCONNECTED', 'the key this connection was made with was revoked or replaced; nothing was applied', true));
  }

  /** The stored answer of a request already applied, for a retry of it. */
  private replay(connection: ConnectionState, type: MessageType, requestId: string, body: unknown, stored: IdempotencyRecord): ResponseEnvelope {
    if (stored.bodyHash !== bodyHash(type, body)) throw new ProtocolError('REQUEST_ID_REUSED');
    // The lookup awaited the disk: the key may have been revoked meanwhile, and a session must not bind.
    this.requireCurrentKey(connection);
    const nowMs = this.deps.services.now();
    if (stored.session && !connection.session && !connection.hadSession && nowMs - stored.storedAtMs <= SIGN_IN_REPLAY_WINDOW_MS) {
      connection.session = { ...stored.session, sessionId: requestId, lastActivityMs: nowMs };
      connection.hadSession = true;
    }
    return toResponse(requestId, stored.outcome);
  }

  private async runOnce(connection: ConnectionState, type: MessageType, requestId: string, body: unknown, nowMs: number, sentAtMs: number): Promise<ResponseEnvelope> {
    const { services } = this.deps;
    const stored = await readIdempotencyRecord(services.db, connection.deviceId, requestId);
    if (stored) return this.replay(connection, type, requestId, body, stored);

    const hash = bodyHash(type, body);
    const failureEvent = (error: ProtocolError): AuditEvent => ({
      action: type,
      outcome: 'failed',
      deviceId: connection.deviceId,
      requestId,
      reason: error.code,
      ...(connection.session ? { customerId: connection.session.customerId } : {}),
      ...(typeof (body as { amountCents?: unknown }).amountCents === 'number' ? { amountCents: (body as { amountCents: number }).amountCents } : {}),
    });
    const record = async (outcome: StoredOutcome, change: AuditedChange): Promise<void> => {
      const idem: IdempotencyRecord = {
        bodyHash: hash,
        type,
        outcome,
        storedAtMs: nowMs,
        ...(outcome.ok && SIGN_IN_TYPES.has(type) ? { session: sessionToStore(services.keys.master, type, body, outcome.result) } : {}),
      };
      // A retryable failure is not an answer to keep: the retry must run again.
      const keep = !UNRECORDED_TYPES.has(type) && !(!outcome.ok && outcome.error.retryable);
      // In the same turn as the change is handed to the committer: a revocation handed over before it is in
      // the same batch or an earlier one, so once `revoke` returns no change of this connection is applied.
      this.requireCurrentKey(connection);
      const write = (guard?: CommitGuard) =>
        services.committer.commit({
          ops: [...change.ops, ...(keep ? idempotencyOps(connection.deviceId, requestId, idem) : [])],
          ...(change.events ? { events: change.events } : {}),
          ...(guard && { guard }),
        });
      if (services.requests === undefined) return write();
      // On a store shared by several hosts, the same promise across them: the device's record, locked
      // (a revocation or rotation on any host locks it too) since the request's BEGIN or as the change
      // commits, must still name the connection's key (no round trip either way).
      try {
        await write(currentKeyGuard(connection));
      } catch (error) {
        if (error instanceof CommitGuardError) throw new StaleKeyRefusal();
        throw error;
      }
      this.recent.remember(change.ops);
    };

    // Session checks come after the idempotency lookup: a completed request's answer stands even if the
    // session has since expired.
    if (!SESSIONLESS_TYPES.has(type)) {
      const session = connection.session;
      if (!session) {
        const error = new ProtocolError('NOT_SIGNED_IN');
        await record(toStored(error), { ops: [], events: [failureEvent(error)] });
        throw error;
      }
      if (nowMs - session.lastActivityMs > services.config.sessionIdleTimeoutMs) {
        connection.session = undefined;
        const error = new ProtocolError('SESSION_EXPIRED');
        await record(toStored(error), {
          ops: [],
          events: [{ action: 'session.expire', outcome: 'ok', customerId: session.customerId, deviceId: connection.deviceId, requestId }],
        });
        throw error;
      }
      session.lastActivityMs = nowMs;
    }

    const handler = this.deps.operations[type] as ((ctx: RequestContext<MessageType>, body: unknown) => Promise<unknown>) | undefined;
    if (!handler) throw new ProtocolError('UNKNOWN_TYPE', `message type ${type} is not served by this host`);

    let finished: StoredOutcome | undefined;
    const ctx: RequestContext<MessageType> = {
      services,
      connection,
      requestId,
      type,
      nowMs,
      sentAtMs,
      devicePinKey: () => {
        // Only a connection on the device's current K_SHARED may use its PIN key.
        this.requireCurrentKey(connection);
        const pinKey = this.deps.pinKeys.pinKeyOf(connection.deviceId);
        if (!pinKey) throw new ProtocolError('NO_PIN_KEY');
        return pinKey;
      },
      enrollEpp: async (epp) => {
        this.requireCurrentKey(connection);
        await this.deps.pinKeys.enrollEpp(connection.deviceId, epp);
      },
      finish: async (outcome: Outcome<MessageType>, change: AuditedChange) => {
        if (finished) throw new Error(`operation ${type} called finish twice`);
        const stored = 'error' in outcome ? toStored(outcome.error) : ({ ok: true, result: outcome.result } as const);
        await record(stored, change);
        finished = stored;
      },
    };

    try {
      const result = await handler(ctx, body);
      if (connection.session) connection.hadSession = true;
      if (!finished) {
        services.log.error('operation returned without finishing', { type, requestId });
        throw new ProtocolError('INTERNAL', undefined, true);
      }
      return finished.ok ? resultResponse(requestId, result) : toResponse(requestId, finished);
    } catch (error) {
      // What finish stored is the answer; a later exception cannot change it.
      if (finished) return toResponse(requestId, finished);
      if (error instanceof ProtocolError && error.code !== 'INTERNAL') {
        await record(toStored(error), { ops: [], events: [failureEvent(error)] });
      }
      throw error;
    }
  }
}

/** What a replayed sign-in needs to bind its session to a new connection. Taken from the answer and the
 *  request (the handler binds the live session only after its change is durable). */
function sessionToStore(master: Buffer, type: MessageType, body: unknown, result: unknown): StoredSession {
  const { customerId, username, role } = result as { customerId: string; username: string; role?: string };
  if (type !== 'signin.card') return { customerId, username };
  const { pan } = body as { pan: string };
  return { customerId, username, cardId: cardIdOf(master, pan), cardLast4: panLast4(pan), ...(role === 'supervisor' && { role: 'supervisor' as const }) };
}

function parseBody(type: MessageType, body: unknown): unknown {
  const parsed = (MESSAGES[type].body as z.ZodTypeAny).safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.');
  // Amount problems get their own code: the kiosk shows "enter a valid amount", not a generic error.
  const code = /amountCents$|dispensedCents$/.test(field) ? 'BAD_AMOUNT' : 'BAD_BODY';
  throw new ProtocolError(code, `${field || 'body'}: ${describeIssue(issue)}`);
}

/** Zod's message, without the parts that quote the sender's input (unknown keys, the received value). */
export function describeIssue(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys': {
      const named = issue.keys.filter(isFieldName);
      const unnamed = issue.keys.length - named.length;
      const listed = named.slice(0, 4).map((key) => `'${key}'`);
      const others = issue.keys.length - listed.length;
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${[...listed, ...(others > 0 ? [`${others} other${others === 1 ? '' : 's'}${unnamed > 0 ? ' not shown' : ''}`] : [])].join(', ')}`;
    }
    case 'invalid_enum_value':
      return `must be one of ${issue.options.map((option) => `'${String(option)}'`).join(', ')}`;
    default:
      return issue.message;
  }
}

function toStored(error: ProtocolError): StoredOutcome {
  return { ok: false, error: { code: error.code, message: error.message, retryable: error.retryable } };
}

function toResponse(requestId: string, outcome: StoredOutcome): ResponseEnvelope {
  return outcome.ok ? resultResponse(requestId, outcome.result) : errorResponse(requestId, new ProtocolError(outcome.error.code, outcome.error.message, outcome.error.retryable));
}

/** The device's record, as a change of the connection commits, must still be active on the connection's
 *  key version: the condition requireStoredKeyCurrent checks, as a commit guard. */
function currentKeyGuard(connection: ConnectionState): CommitGuard {
  return {
    key: DEVICE_KEY_PREFIX + connection.deviceId,
    holds: { status: 'active', ...(connection.keyVersion !== undefined && { keyVersion: connection.keyVersion }) },
  };
}
