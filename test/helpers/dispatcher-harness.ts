// Handler tests without sockets, on the real host: fresh keys and a LevelDB database in a temp folder, opened
// by the host's own `openHostState` (database, audit chain, group committer, locks, device registry), and
// the host's own dispatcher (`hostDispatcher`) with the real operation table. `call` sends a real request
// envelope (32-hex id, the host clock's time, protocol version, type, body) through
// `Dispatcher.dispatch`, so every answer is the one a kiosk would get over TLS: envelope and body checks,
// idempotency, session expiry, audit records and all. The clock is the test's to move.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import { PROTOCOL_VERSION } from '../../protocol/limits.js';
import { silentLogger, type Logger } from '../../protocol/log.js';
import { MESSAGES, type MessageType, type ResultOf } from '../../protocol/messages.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import type { AuditEvent } from '../../bank-host/audit/event.js';
import type { AuditEntry } from '../../bank-host/audit/record.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import { defaultHostConfig, type HostConfig, type StoreConfig } from '../../bank-host/config.js';
import type { ScryptCost } from '../../bank-host/customers/passwords.js';
import { hostDispatcher, openHostState } from '../../bank-host/host.js';
import { createHostKeys } from '../../bank-host/keys.js';
import type { ConnectionState, HostServices } from '../../bank-host/operations/context.js';
import { createHostOperations } from '../../bank-host/operations/table.js';
import { depositNotes, testKioskStatus } from './kiosk-cash.js';
import { testStoreConfig } from './store-backend.js';

/** scrypt at N = 2^10: about a millisecond, so tests can sign in hundreds of times. */
export const TEST_SCRYPT_COST: ScryptCost = { log2N: 10, r: 8, p: 1 };
export const TEST_START_MS = Date.UTC(2025, 5, 15, 12, 0, 0);
/** Records read per page when a test reads the whole audit log back. */
const AUDIT_PAGE_RECORDS = 1_000;

export interface Harness {
  readonly services: HostServices;
  /** The key folder and the store setting, so a second host can share them (`sameStoreAs`). */
  readonly keysDir: string;
  readonly store: StoreConfig;
  /** The audit events the host committed, in log order, as the code that acted built them (before the
   *  chain sealed them). `auditLog()` reads the same records back from the store. */
  readonly events: readonly AuditEvent[];
  /** The host clock; tests move it. */
  readonly clock: { nowMs: number };
  /** What the host logged at error level (each line: message and fields). */
  readonly loggedErrors: readonly string[];
  /** A new connection of `deviceId` (default `kiosk-01`), registered with the host on first use; on first
   *  use it also reports the test kiosk's status (testKioskStatus), as a kiosk does before serving anyone,
   *  unless `reportStatus` is false. */
  connect(deviceId?: string, options?: { reportStatus?: boolean }): Promise<ConnectionState>;
  /** A new connection of a device another host of the same store enrolled (this host takes in the store's
   *  device records first), with the key version it has there. */
  attach(deviceId: string): Promise<ConnectionState>;
  /** The host's data folder (its LevelDB database). */
  readonly dataDir: string;
  /** Closes the host's store but keeps its folders (close() removes them). */
  stop(): Promise<void>;
  /** Revokes a device through this host's registry (as `bank-host device revoke` does). */
  revoke(deviceId: string): Promise<void>;
  /** Gives a device a new PIN key through this host's registry (as `bank-host device rotate-pin-key` does). */
  rotatePinKey(deviceId: string): Promise<void>;
  /** Opens a deposit and commits `cents` of notes (test/helpers/kiosk-cash.ts). */
  deposit(connection: ConnectionState, accountId: string, cents: number): Promise<ResultOf<'deposit.commit'>>;
  /** Sends one request; the answer is the result, or the ProtocolError the host answered. `requestId`
   *  sends a retry of an earlier request. */
  call<T extends MessageType>(connection: ConnectionState, type: T, body: unknown, options?: { requestId?: string }): Promise<ResultOf<T> | ProtocolError>;
  /** `call`, failing the test's promise when the answer is an error. */
  ok<T extends MessageType>(connection: ConnectionState, type: T, body: unknown): Promise<ResultOf<T>>;
  /** A format-4 PIN block for `pan` under the PIN key of `deviceId`, as that kiosk would send it. */
  pinBlock(deviceId: string, pan: string, pin: string): string;
  /** Every record of the audit log, decrypted, in sequence order. */
  auditLog(): Promise<AuditEntry[]>;
  /** Closes the host and removes its folder. Fails when the host logged an error (a handler that broke its
   *  contract, or a request that failed as INTERNAL), unless the harness was told to expect that. */
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly config?: Partial<HostConfig>;
  readonly scryptCost?: ScryptCost;
  /** The test makes requests fail on purpose (a failing disk, say), so the host's error log is expected. */
  readonly errorsExpected?: boolean;
  /** A second host on another harness's store (PostgreSQL): the same keys and database, its own host id. */
  readonly sameStoreAs?: { readonly keysDir: string; readonly store: StoreConfig; readonly hostId: string };
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bank-dispatch-'));
  const keysDir = options.sameStoreAs?.keysDir ?? path.join(dir, 'keys');
  if (options.sameStoreAs === undefined) await createHostKeys(keysDir);
  const clock = { nowMs: TEST_START_MS };
  const loggedErrors: string[] = [];
  const log: Logger = {
    ...silentLogger,
    error: (message, fields) => {
      loggedErrors.push(`${message} ${JSON.stringify(fields ?? {})}`);
    },
  };
  const shared = options.sameStoreAs;
  const store: StoreConfig = shared !== undefined && shared.store.backend === 'postgresql' ? { ...shared.store, hostId: shared.hostId } : await testStoreConfig(keysDir);
  const state = await openHostState({ dataDir: path.join(dir, 'data'), keysDir }, log, {
    // Deposits are available at once unless a test sets an availability policy.
    config: defaultHostConfig({ registrationEnabled: true, depositHoldMs: 0, store, ...options.config }),
    now: () => clock.nowMs,
  });
  const { services, registry } = state;

  // Observes what reaches the log: the real chain seals and writes every record; the events of a change
  // are kept once it is durable.
  const events: AuditEvent[] = [];
  services.committer.observe((batch) => events.push(...batch));

  let stopped: Promise<void> | undefined;
  const dispatcher = hostDispatcher(state, createHostOperations({ scryptCost: options.scryptCost ?? TEST_SCRYPT_COST }));
  const sharedKeys = new Map<string, Promise<Buffer>>();
  const keyOf = new Map<string, Buffer>();
  let connections = 0;

  const call = async <T extends MessageType>(
    connection: ConnectionState,
    type: T,
    body: unknown,
    callOptions: { requestId?: string } = {},
  ): Promise<ResultOf<T> | ProtocolError> => {
    const envelope = { v: PROTOCOL_VERSION, id: callOptions.requestId ?? newRequestId(), ts: clock.nowMs, type, body };
    const response = await dispatcher.dispatch(connection, envelope);
    if (response.id !== envelope.id) throw new Error(`${type}: the answer names request ${response.id}, not ${envelope.id}`);
    if (!response.ok) return new ProtocolError(response.error.code, response.error.message, response.error.retryable);
    // What the kiosk's client checks of every result.
    return MESSAGES[type].result.parse(response.result) as ResultOf<T>;
  };

  const ok = async <T extends MessageType>(connection: ConnectionState, type: T, body: unknown): Promise<ResultOf<T>> => {
    const answer = await call(connection, type, body);
    if (answer instanceof ProtocolError) throw new Error(`${type} failed: ${answer.code} ${answer.message}`);
    return answer;
  };

  return {
    services,
    events,
    clock,
    loggedErrors,
    keysDir,
    store,
    async revoke(deviceId) {
      await registry.revoke(deviceId);
    },
    async rotatePinKey(deviceId) {
      await registry.rotatePinKey(deviceId);
    },
    async attach(deviceId) {
      await registry.refresh();
      const summary = registry.get(deviceId);
      if (summary === undefined) throw new Error(`no device ${deviceId} in the store`);
      return { connectionId: `c${++connections}`, deviceId, keyVersion: summary.keyVersion, session: undefined };
    },
    async connect(deviceId = 'kiosk-01', connectOptions = {}) {
      if (!sharedKeys.has(deviceId)) {
        const added = registry.add(deviceId).then(async (key) => {
          keyOf.set(deviceId, key);
          if (connectOptions.reportStatus !== false) await ok({ connectionId: `status-${deviceId}`, deviceId, session: undefined }, 'kiosk.status', testKioskStatus());
          return key;
        });
        sharedKeys.set(deviceId, added);
      }
      await sharedKeys.get(deviceId);
      return { connectionId: `c${++connections}`, deviceId, session: undefined };
    },
    call,
    ok,
    deposit(connection, accountId, cents) {
      return depositNotes((type, body) => ok(connection, type, body), accountId, cents);
    },
    pinBlock(deviceId, pan, pin) {
      const pinKey = registry.pinKeyOf(deviceId);
      if (pinKey === undefined) throw new Error(`connect ${deviceId} first`);
      return encodePinBlockFormat4(pin, pan, pinKey.key).toString('hex');
    },
    async auditLog() {
      const entries: AuditEntry[] = [];
      let cursorSeq: number | undefined;
      for (;;) {
        const page = await readAuditPage(services.db, services.keys.auditEnc, {
          order: 'asc',
          limit: AUDIT_PAGE_RECORDS,
          scanLimit: AUDIT_PAGE_RECORDS,
          ...(cursorSeq !== undefined && { cursorSeq }),
        });
        if (page.undecryptableSeqs.length > 0) throw new Error(`audit records ${page.undecryptableSeqs.join(', ')} do not decrypt`);
        entries.push(...page.entries);
        if (page.nextCursorSeq === undefined) return entries;
        cursorSeq = page.nextCursorSeq;
      }
    },
    dataDir: path.join(dir, 'data'),
    async stop() {
      stopped ??= state.close();
      await stopped;
    },
    async close() {
      try {
        stopped ??= state.close();
        await stopped;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      if (loggedErrors.length > 0 && !options.errorsExpected) throw new Error(`the host logged errors:\n${loggedErrors.join('\n')}`);
    },
  };
}
