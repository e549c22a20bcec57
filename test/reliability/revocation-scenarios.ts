// Revocation against work in flight, over real TLS on loopback: `device revoke` or `rotate` returns while
// (a) a kiosk's handshake is in flight, held by a proxy after the host ran its pskCallback, with requests
// queued behind the kiosk's Finished; or (b) a request is inside the host, waiting for an account lock.
// Each scenario then lets the work go on and reports what the host applied or answered for the old key:
// nothing may be (checked in the store and in the audit log). test/bank-host/revocation.test.ts runs
// each once; test/reliability/revocation.test.ts runs them many times for the reliability table.
import { ChannelClient } from '../../protocol/client.js';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import { addCustomer } from '../../bank-host/customers/admin.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import type { AuditEntry } from '../../bank-host/audit/record.js';
import { accountKey, depositKey, type DepositRecord } from '../../bank-host/ledger/records.js';
import { readAccount } from '../../bank-host/ledger/accounts.js';
import { notesFor, testKioskStatus } from '../helpers/kiosk-cash.js';
import { eventually, type TestHost } from '../helpers/host.js';
import { FinishedHoldingProxy } from './finished-holding-proxy.js';

export const SCENARIO_SCRYPT_COST = { log2N: 10, r: 8, p: 1 };
export type KeyCommand = 'revoke' | 'rotate';

export interface RevocationOutcome {
  /** Requests of the old key the host applied or answered after the command returned (must be 0). */
  readonly accepted: number;
  /** What was accepted, for the test's message. */
  readonly details: readonly string[];
  /** Requests the old key's kiosk had sent, refused. */
  readonly refused: number;
  /** Other broken rules (a refusal not counted). */
  readonly problems: readonly string[];
}

const AUDIT_PAGE = 1_000;
const SETTLE_MS = 15_000;

async function auditSince(h: TestHost, afterSeq: number): Promise<AuditEntry[]> {
  const { db, keys } = h.host.state.services;
  const entries: AuditEntry[] = [];
  let cursorSeq: number | undefined;
  for (;;) {
    const page = await readAuditPage(db, keys.auditEnc, { order: 'asc', limit: AUDIT_PAGE, scanLimit: AUDIT_PAGE, ...(cursorSeq !== undefined && { cursorSeq }) });
    entries.push(...page.entries.filter((entry) => entry.seq > afterSeq));
    if (page.nextCursorSeq === undefined) return entries;
    cursorSeq = page.nextCursorSeq;
  }
}

async function auditHead(h: TestHost): Promise<number> {
  return (await auditSince(h, 0)).at(-1)?.seq ?? 0;
}

function runCommand(h: TestHost, command: KeyCommand, deviceId: string): Promise<unknown> {
  return command === 'revoke' ? h.host.state.registry.revoke(deviceId) : h.host.state.registry.rotate(deviceId);
}

/** The kiosk's records after the command: any record of a kiosk request from it is something applied or
 *  answered for the old key. Refusals of the connection are not. */
function acceptedRecords(entries: readonly AuditEntry[], deviceId: string): string[] {
  return entries
    .filter((entry) => entry.deviceId === deviceId && entry.actor === undefined && !['handshake', 'request', 'channel.record', 'session.end'].includes(entry.action))
    .map((entry) => `audit record ${entry.seq}: ${entry.action} ${entry.outcome}`);
}

async function settled(requests: readonly Promise<unknown>[]): Promise<{ answered: number; codes: string[] }> {
  const outcomes = await Promise.all(requests.map((request) => request.then(() => 'ok', (error: unknown) => (error instanceof ProtocolError ? error.code : String(error)))));
  return { answered: outcomes.filter((code) => code !== 'DISCONNECTED' && code !== 'TIMEOUT').length, codes: outcomes };
}

/** (a) The kiosk's handshake is held after the host handed out its key; the kiosk queues a status report,
 *  a registration and a ping behind its Finished; the command returns; the handshake is let through. */
export async function handshakeInFlight(h: TestHost, command: KeyCommand, deviceId: string): Promise<RevocationOutcome> {
  const key = await h.addDevice(deviceId);
  const proxy = await FinishedHoldingProxy.start(h.port);
  const client = new ChannelClient({ host: '127.0.0.1', port: proxy.port, deviceId, kShared: key, limits: { reconnectDelayMinMs: 60_000, reconnectDelayMaxMs: 60_000 } });
  try {
    client.start();
    // The kiosk has the host's Finished, so the host ran pskCallback and handed out the key now revoked.
    await client.waitConnected(SETTLE_MS);
    const refusalsBefore = h.host.channel.stats.handshakeFailures;
    const before = { revoked: refusalsBefore['revoked-device'], stale: refusalsBefore['stale-key' as 'revoked-device'] ?? 0 };
    const username = `held-${deviceId}`;
    const requests = [
      client.request('kiosk.status', testKioskStatus(), { timeoutMs: SETTLE_MS }),
      client.request('register', { username, password: 'correct horse battery' }, { timeoutMs: SETTLE_MS }),
      client.request('ping', {}, { timeoutMs: SETTLE_MS }),
    ];
    if (!(await eventually(() => proxy.heldRecords >= 2, SETTLE_MS))) throw new Error('the proxy held nothing behind the kiosk\'s Finished');
    const head = await auditHead(h);
    await runCommand(h, command, deviceId);
    proxy.release();
    const { answered, codes } = await settled(requests);
    const reason = command === 'revoke' ? 'revoked' : 'stale';
    await eventually(() => {
      const now = h.host.channel.stats.handshakeFailures;
      return (reason === 'revoked' ? now['revoked-device'] - before.revoked : now['stale-key'] - before.stale) === 1;
    }, SETTLE_MS);
    const details = [
      ...codes.filter((code) => code !== 'DISCONNECTED' && code !== 'TIMEOUT').map((code) => `a request was answered: ${code}`),
      ...acceptedRecords(await auditSince(h, head), deviceId),
      ...((await h.host.state.services.db.get(`user:${username}`)) !== undefined ? ['the registration created a customer'] : []),
      ...((await h.host.state.services.db.get(`devstat:${deviceId}`)) !== undefined ? ['the status report was stored'] : []),
    ];
    const counted = h.host.channel.stats.handshakeFailures;
    const problems = (reason === 'revoked' ? counted['revoked-device'] - before.revoked : counted['stale-key'] - before.stale) === 1 ? [] : [`the completed handshake was not counted as refused (${reason})`];
    return { accepted: details.length, details, refused: requests.length - answered, problems };
  } finally {
    client.close();
    await proxy.close();
  }
}

/** (b) A signed-in kiosk's deposit commit is inside the host, waiting for the account's lock, when the
 *  command returns; then the lock is let go. */
export async function requestInFlight(h: TestHost, command: KeyCommand, deviceId: string): Promise<RevocationOutcome> {
  const { services } = h.host.state;
  const username = `inflight-${deviceId}`;
  await addCustomer(services, username, 'correct horse battery', { scryptCost: SCENARIO_SCRYPT_COST });
  const client = await h.connectedClient(deviceId, { reconnectDelayMinMs: 60_000, reconnectDelayMaxMs: 60_000 });
  try {
    const session = await client.request('signin.password', { username, password: 'correct horse battery' });
    const accountId = session.accounts[0]!.accountId;
    const { depositId } = await client.request('deposit.open', { accountId });

    // The test holds the account's lock; the commit queues behind it inside the host: at its handler's
    // withLocks, or, on PostgreSQL, at its unit's BEGIN, which takes the locks the handler names beforehand
    // (its lock hint: this host opened the deposit).
    const asked: string[][] = [];
    const withLocks = services.locks.withLocks.bind(services.locks);
    services.locks.withLocks = (keys, work) => (asked.push([...keys]), withLocks(keys, work));
    const requests = services.requests;
    const run = requests?.run;
    if (requests !== undefined) {
      const bound = requests.run.bind(requests);
      requests.run = (key, work, readKeys, lockKeys, options) => (asked.push([...(lockKeys ?? [])]), bound(key, work, readKeys, lockKeys, options));
    }
    let letGo!: () => void;
    let holding!: () => void;
    const holds = new Promise<void>((resolve) => (holding = resolve));
    const held = withLocks([accountKey(accountId)], () => {
      holding();
      return new Promise<void>((resolve) => (letGo = resolve));
    });
    try {
      // On PostgreSQL the lock is taken by a unit of work of its own, a round trip later: the commit must not
      // get to the account first (it would be applied before the command runs, as nothing stopped it).
      await Promise.race([holds, held]);
      const commit = client.request('deposit.commit', { depositId, notes: notesFor(700) }, { requestId: newRequestId(), timeoutMs: SETTLE_MS });
      if (!(await eventually(() => asked.some((keys) => keys.includes(depositKey(depositId))), SETTLE_MS))) throw new Error('the commit never reached its locks');
      const head = await auditHead(h);
      await runCommand(h, command, deviceId);
      letGo();
      await held;
      const { answered, codes } = await settled([commit]);
      await eventually(async () => (await auditSince(h, head)).some((entry) => entry.action === 'request' && entry.outcome === 'refused'), SETTLE_MS);
      const deposit = await services.db.get<DepositRecord>(depositKey(depositId));
      const account = await readAccount(services.db, accountId);
      const details = [
        ...codes.filter((code) => code !== 'DISCONNECTED' && code !== 'TIMEOUT').map((code) => `the commit was answered: ${code}`),
        ...acceptedRecords(await auditSince(h, head), deviceId),
        ...(deposit?.status !== 'open' ? [`the deposit is ${deposit?.status}`] : []),
        ...(account?.balanceCents !== 0 ? [`the account holds ${account?.balanceCents} cents`] : []),
      ];
      return { accepted: details.length, details, refused: 1 - answered, problems: [] };
    } finally {
      services.locks.withLocks = withLocks;
      if (requests !== undefined) requests.run = run!;
      letGo?.();
    }
  } finally {
    client.close();
  }
}
