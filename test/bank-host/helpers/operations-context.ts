// A stand-in for the dispatcher, for testing operation handlers directly: a temp-dir database, the real
// group committer and locks, random keys, and `call(connection, type, body)`, which parses the body,
// checks the session the way the dispatcher does, builds a RequestContext whose `finish` commits the
// change with an idempotency record, runs the handler and returns its result or its ProtocolError. It
// also checks the handler contract: finish exactly once, with the same outcome the handler returns.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProtocolError } from '../../../protocol/errors.js';
import { silentLogger } from '../../../protocol/log.js';
import { MESSAGES, type MessageType, type ResultOf, SESSIONLESS_TYPES } from '../../../protocol/messages.js';
import { derivePinKey, encodePinBlockFormat4 } from '../../../protocol/pin-block.js';
import type { AuditEvent } from '../../../bank-host/audit/event.js';
import { type HostConfig, defaultHostConfig } from '../../../bank-host/config.js';
import { type HostKeys, KEY_FILES, type KeyName } from '../../../bank-host/keys.js';
import { createBankingOperations } from '../../../bank-host/operations/banking.js';
import type { ConnectionState, HostServices, OperationHandler, OperationTable, Outcome, RequestContext } from '../../../bank-host/operations/context.js';
import type { ScryptCost } from '../../../bank-host/customers/passwords.js';
import { Database } from '../../../bank-host/store/database.js';
import { type Change, GroupCommitter } from '../../../bank-host/store/group-commit.js';
import { KeyedLocks } from '../../../bank-host/store/locks.js';

/** scrypt at N = 2^10: about a millisecond, so tests can sign in hundreds of times. */
export const TEST_SCRYPT_COST: ScryptCost = { log2N: 10, r: 8, p: 1 };
export const TEST_START_MS = Date.UTC(2025, 5, 15, 12, 0, 0);

export interface Harness {
  readonly services: HostServices;
  readonly operations: OperationTable;
  /** Every audit event committed, in commit order. */
  readonly events: AuditEvent[];
  /** The host clock; tests move it. */
  readonly clock: { nowMs: number };
  connect(deviceId?: string): ConnectionState;
  call<T extends MessageType>(connection: ConnectionState, type: T, body: unknown): Promise<ResultOf<T> | ProtocolError>;
  /** `call`, failing the test's promise when the answer is an error. */
  ok<T extends MessageType>(connection: ConnectionState, type: T, body: unknown): Promise<ResultOf<T>>;
  /** A format-4 PIN block for `pan` under the PIN key of `deviceId`, as that kiosk would send it. */
  pinBlock(deviceId: string, pan: string, pin: string): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly config?: Partial<HostConfig>;
  readonly scryptCost?: ScryptCost;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bank-ops-'));
  const db = await Database.open(path.join(dir, 'db'));
  const events: AuditEvent[] = [];
  const committer = new GroupCommitter<AuditEvent>(db);
  committer.setSink({
    prepare: (batch) => {
      events.push(...batch);
      return [];
    },
    committed: () => {},
    failed: () => {},
  });
  const keys = Object.fromEntries((Object.keys(KEY_FILES) as KeyName[]).map((name) => [name, randomBytes(32)])) as HostKeys;
  const clock = { nowMs: TEST_START_MS };
  const services: HostServices = {
    db,
    committer,
    locks: new KeyedLocks(),
    config: defaultHostConfig({ registrationEnabled: true, ...options.config }),
    keys,
    log: silentLogger,
    now: () => clock.nowMs,
  };
  const operations = createBankingOperations({ scryptCost: options.scryptCost ?? TEST_SCRYPT_COST });
  const sharedKeys = new Map<string, Buffer>();
  let connections = 0;

  const call = async <T extends MessageType>(connection: ConnectionState, type: T, rawBody: unknown): Promise<ResultOf<T> | ProtocolError> => {
    const parsed = MESSAGES[type].body.safeParse(rawBody);
    if (!parsed.success) return new ProtocolError('BAD_BODY', parsed.error.issues[0]?.message ?? 'bad body');
    if (!SESSIONLESS_TYPES.has(type) && connection.session === undefined) return new ProtocolError('NOT_SIGNED_IN');
    const handler = operations[type] as OperationHandler<T> | undefined;
    if (handler === undefined) return new ProtocolError('UNKNOWN_TYPE');
    const requestId = randomBytes(16).toString('hex');
    let finished: Outcome<T> | undefined;
    const ctx: RequestContext<T> = {
      services,
      connection,
      requestId,
      type,
      nowMs: clock.nowMs,
      devicePinKey: () => derivePinKey(sharedKeys.get(connection.deviceId)!),
      async finish(outcome: Outcome<T>, change: Change<AuditEvent>) {
        if (finished !== undefined) throw new Error(`${type}: finish called twice`);
        finished = outcome;
        const stored = 'result' in outcome ? { result: outcome.result } : { error: outcome.error.code };
        await committer.commit({ ops: [...change.ops, { type: 'put', key: `idem:test:${requestId}`, value: stored }], ...(change.events && { events: change.events }) });
      },
    };
    try {
      const result = await handler(ctx, parsed.data as never);
      if (finished === undefined || !('result' in finished) || finished.result !== result) {
        throw new Error(`${type}: returned a result without finishing with it`);
      }
      // The reply must satisfy the message catalog's result schema, as the client will check it.
      MESSAGES[type].result.parse(result);
      return result;
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      if (finished !== undefined && (!('error' in finished) || finished.error !== error)) {
        throw new Error(`${type}: threw a different error than it finished with`);
      }
      return error;
    }
  };

  return {
    services,
    operations,
    events,
    clock,
    connect(deviceId = 'kiosk-01') {
      if (!sharedKeys.has(deviceId)) sharedKeys.set(deviceId, randomBytes(32));
      return { connectionId: `c${++connections}`, deviceId, session: undefined };
    },
    call,
    async ok(connection, type, body) {
      const answer = await call(connection, type, body);
      if (answer instanceof ProtocolError) throw new Error(`${type} failed: ${answer.code} ${answer.message}`);
      return answer;
    },
    pinBlock(deviceId, pan, pin) {
      const kShared = sharedKeys.get(deviceId);
      if (kShared === undefined) throw new Error(`connect ${deviceId} first`);
      return encodePinBlockFormat4(pin, pan, derivePinKey(kShared)).toString('hex');
    },
    async close() {
      await committer.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
