// An active attacker between a kiosk and the host (attacker-proxy.ts), without the kiosk's key: it flips
// bits in requests, answers and ClientHellos, replays and reorders records, injects forged and plaintext
// records, and replays whole recorded connections (and a recorded ClientHello alone) to the host later.
// For every attempt: nothing it altered or injected is accepted (no request is processed from it, no money
// moves), the connection it touched is closed, the attempt shows in the host's counters (`bank-host
// status`, read over the admin socket as an operator would) and as exactly one refused record in the audit
// log (`bank-host audit show`). The attacked request is a deposit's commit (the request that moves money;
// the deposit is opened on the same connection before the attack). The victim kiosk then resends its
// requests with the same ids over a clean connection, and every deposit ends in the ledger exactly once.
import test from 'ava';
import { newRequestId } from '../../protocol/envelope.js';
import { ChannelClient } from '../../protocol/client.js';
import { ProtocolError } from '../../protocol/errors.js';
import { sendAdminCommand } from '../../bank-host/admin/socket.js';
import { addCustomer } from '../../bank-host/customers/admin.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { verifyAuditChain } from '../../bank-host/audit/verify.js';
import type { ChannelStats } from '../../bank-host/server/channel-server.js';
import type { AuditEntry } from '../../bank-host/audit/record.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import { SETTING_CENTS_MAX } from '../../bank-host/config.js';
import { eventually, startTestHost } from '../helpers/host.js';
import { notesFor, testKioskStatus } from '../helpers/kiosk-cash.js';
import { FAST_SCRYPT, PASSWORD } from '../kiosk/core/kiosk-rig.js';
import { AttackerProxy, flipBit, passThrough, RECORD_TYPE, recordType, replayToHost, tlsRecord, type Tamper } from './attacker-proxy.js';
import { inspectLedger } from './ledger-inspection.js';
import { compareWithLedger, type Transaction } from './money-load.js';
import { recordScenarioResult } from './results.js';
import { reliabilityParams, scaled, SeededRandom } from './seeded-random.js';

/** Rounds of every attack in the default run; RELIABILITY_SCALE multiplies it. */
const ROUNDS_AT_SCALE_1 = 2;
/** Short, so the attack that leaves a replayed ClientHello hanging is cut off quickly (default 5 s). */
const HANDSHAKE_TIMEOUT_MS = 1_000;
const VICTIM = 'kiosk-victim';
const USERNAME = 'victim';

type Counter = { group: 'recordFailures'; reasons: readonly string[] } | { group: 'handshakeFailures'; reasons: readonly string[] };

interface Attack {
  readonly name: string;
  /** Which host counter must count the attempt (any of the reasons), and the audit record's action. */
  readonly counter: Counter;
  readonly auditAction: 'channel.record' | 'handshake';
  /** Requests the host may process from the attacked connection: the genuine record went through first. */
  readonly genuineRequestsDelivered: number;
  /** The genuine answer may reach the kiosk before the connection closes (the attack came after it). */
  readonly answerMayArrive?: boolean;
  run(ctx: AttackContext): Promise<void>;
}

interface AttackContext {
  readonly proxy: AttackerProxy;
  readonly hostPort: number;
  readonly random: SeededRandom;
  readonly accountId: string;
  /** A kiosk connected through the proxy, its status reported and a customer signed in (pass-through so far). */
  victim(): Promise<ChannelClient>;
  /** Opens a deposit (pass-through, logged) and takes the baseline again: the attack is on its commit. */
  openDeposit(client: ChannelClient): Promise<string>;
  /** Commits notes to an opened deposit and logs it; the attacked send may fail any way, the clean retry
   *  settles it. */
  deposit(client: ChannelClient, depositId: string): Promise<void>;
  /** Reads the counters and audit position the attempt is measured from (after any setup of its own). */
  takeBaseline(): Promise<void>;
  /** Requests sent by the attacked connection (retried later over a clean connection). */
  readonly sent: Transaction[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isRequestRecord = (direction: string, record: Buffer, index: number) => direction === 'to-host' && recordType(record) === RECORD_TYPE.applicationData && index >= 2;

/** Tamper with the first request record (application data #2 to the host: #1 is the kiosk's Finished). */
function onFirstRequest(change: (record: Buffer) => Buffer[]): Tamper {
  let done = false;
  return (direction, record, tap) => {
    if (done || !isRequestRecord(direction, record, tap.appDataToHost)) return [record];
    done = true;
    return change(record);
  };
}

const ATTACKS: readonly Attack[] = [
  {
    name: 'flip a bit in a request',
    counter: { group: 'recordFailures', reasons: ['bad-record'] },
    auditAction: 'channel.record',
    genuineRequestsDelivered: 0,
    async run(ctx) {
      const client = await ctx.victim();
      const depositId = await ctx.openDeposit(client);
      const bit = ctx.random.int(0, 10_000);
      ctx.proxy.setTamper(onFirstRequest((record) => [flipBit(record, bit)]));
      await ctx.deposit(client, depositId);
      client.close();
    },
  },
  {
    name: "flip a bit in the host's answer",
    counter: { group: 'recordFailures', reasons: ['peer-alert'] },
    auditAction: 'channel.record',
    genuineRequestsDelivered: 1,
    async run(ctx) {
      const client = await ctx.victim();
      const depositId = await ctx.openDeposit(client);
      const bit = ctx.random.int(0, 10_000);
      let requestSeen = false;
      let done = false;
      ctx.proxy.setTamper((direction, record, tap) => {
        if (isRequestRecord(direction, record, tap.appDataToHost)) requestSeen = true;
        if (done || !requestSeen || direction !== 'to-kiosk' || recordType(record) !== RECORD_TYPE.applicationData) return [record];
        done = true;
        return [flipBit(record, bit)];
      });
      await ctx.deposit(client, depositId);
      client.close();
    },
  },
  {
    name: 'replay a request record',
    counter: { group: 'recordFailures', reasons: ['bad-record'] },
    auditAction: 'channel.record',
    genuineRequestsDelivered: 1,
    answerMayArrive: true,
    async run(ctx) {
      const client = await ctx.victim();
      const depositId = await ctx.openDeposit(client);
      ctx.proxy.setTamper(onFirstRequest((record) => [record, record]));
      await ctx.deposit(client, depositId);
      client.close();
    },
  },
  {
    name: 'reorder two request records',
    counter: { group: 'recordFailures', reasons: ['bad-record'] },
    auditAction: 'channel.record',
    genuineRequestsDelivered: 0,
    async run(ctx) {
      const client = await ctx.victim();
      const firstDeposit = await ctx.openDeposit(client);
      const secondDeposit = await ctx.openDeposit(client);
      let requests = 0;
      ctx.proxy.setTamper((direction, record, tap) => {
        if (!isRequestRecord(direction, record, tap.appDataToHost) || ++requests > 2) return [record];
        if (requests === 1) {
          tap.held.push(record);
          return [];
        }
        return [record, ...tap.held.splice(0)];
      });
      // Two requests, each in its own record: the second is written after the first has left.
      const first = ctx.deposit(client, firstDeposit);
      await sleep(30);
      await Promise.all([first, ctx.deposit(client, secondDeposit)]);
      client.close();
    },
  },
  {
    name: 'inject a forged application-data record',
    counter: { group: 'recordFailures', reasons: ['bad-record'] },
    auditAction: 'channel.record',
    genuineRequestsDelivered: 0,
    async run(ctx) {
      const client = await ctx.victim();
      const depositId = await ctx.openDeposit(client);
      const forged = tlsRecord(RECORD_TYPE.applicationData, ctx.random.bytes(ctx.random.int(24, 200)));
      ctx.proxy.setTamper(onFirstRequest((record) => [forged, record]));
      await ctx.deposit(client, depositId);
      client.close();
    },
  },
  {
    name: 'inject a plaintext record (alert, handshake, change-cipher-spec)',
    counter: { group: 'recordFailures', reasons: ['tls-error'] },
    auditAction: 'channel.record',
    genuineRequestsDelivered: 0,
    async run(ctx) {
      const client = await ctx.victim();
      const depositId = await ctx.openDeposit(client);
      const type = ctx.random.pick([RECORD_TYPE.alert, RECORD_TYPE.handshake, RECORD_TYPE.changeCipherSpec]);
      const body = type === RECORD_TYPE.alert ? Buffer.from([1, 0]) : type === RECORD_TYPE.changeCipherSpec ? Buffer.from([1]) : ctx.random.bytes(ctx.random.int(4, 64));
      ctx.proxy.setTamper(onFirstRequest((record) => [tlsRecord(type, body), record]));
      await ctx.deposit(client, depositId);
      client.close();
    },
  },
  {
    name: 'flip a bit in the ClientHello',
    // Where the bit lands decides how it fails: the binder (wrong key), the identity (unknown device),
    // the structure (protocol), or a length inside the message, after which the host waits for bytes
    // that never come (timeout).
    counter: { group: 'handshakeFailures', reasons: ['wrong-key', 'unknown-device', 'protocol', 'timeout'] },
    auditAction: 'handshake',
    genuineRequestsDelivered: 0,
    async run(ctx) {
      const bit = ctx.random.int(0, 10_000);
      ctx.proxy.setTamper((direction, record) => (direction === 'to-host' && recordType(record) === RECORD_TYPE.handshake ? [flipBit(record, bit)] : [record]));
      const client = new ChannelClient({ host: '127.0.0.1', port: ctx.proxy.port, deviceId: VICTIM, kShared: victimKey, limits: { connectTimeoutMs: 2_000, reconnectDelayMinMs: 10_000, reconnectDelayMaxMs: 10_000 } });
      client.start();
      await client.waitConnected(2_000).catch(() => undefined);
      client.close();
    },
  },
  {
    name: 'replay a whole recorded connection',
    counter: { group: 'handshakeFailures', reasons: ['tampered'] },
    auditAction: 'handshake',
    genuineRequestsDelivered: 0,
    async run(ctx) {
      // Recorded as it happens: status, sign-in and a deposit (opened, committed) that the host applies once.
      ctx.proxy.setTamper(passThrough);
      const client = await ctx.victim();
      await ctx.deposit(client, await ctx.openDeposit(client));
      client.close();
      await sleep(50);
      const recorded = ctx.proxy.connections.at(-1)!.recordsToHost;
      await ctx.takeBaseline();
      await replayToHost(ctx.hostPort, recorded, 3_000);
    },
  },
  {
    name: 'replay a recorded ClientHello alone',
    counter: { group: 'handshakeFailures', reasons: ['timeout'] },
    auditAction: 'handshake',
    genuineRequestsDelivered: 0,
    async run(ctx) {
      ctx.proxy.setTamper(passThrough);
      const client = await ctx.victim();
      client.close();
      await sleep(50);
      const [clientHello] = ctx.proxy.connections.at(-1)!.recordsToHost;
      await ctx.takeBaseline();
      // The host answers it and then waits for a Finished the attacker cannot make.
      await replayToHost(ctx.hostPort, [clientHello!], HANDSHAKE_TIMEOUT_MS * 4);
    },
  },
];

let victimKey: Buffer;
let adminSocket: string;
/** Counters and audit position before the attack proper (an attack may reset it after its own setup). */
let baseline: Baseline;

interface Baseline {
  readonly channel: ChannelStats;
  readonly auditSeq: number;
  /** Deposits sent before the attack proper: later ones travelled on the attacked connection. */
  readonly sentCount: number;
}

async function readCounters(sentCount: number): Promise<Baseline> {
  const status = (await sendAdminCommand(adminSocket, 'status', {})) as { channel: ChannelStats };
  const entries = await refusedSince(0);
  return { channel: status.channel, auditSeq: entries.at(-1)?.seq ?? 0, sentCount };
}

async function refusedSince(afterSeq: number): Promise<AuditEntry[]> {
  const page = (await sendAdminCommand(adminSocket, 'audit.show', { outcome: 'refused', afterSeq })) as { entries: AuditEntry[] };
  return page.entries;
}

function counted(before: ChannelStats, after: ChannelStats, counter: Counter): number {
  const group = counter.group;
  return counter.reasons.reduce((sum, reason) => sum + ((after[group] as Record<string, number>)[reason]! - (before[group] as Record<string, number>)[reason]!), 0);
}

function allCounted(before: ChannelStats, after: ChannelStats): number {
  const total = (stats: ChannelStats) => Object.values(stats.recordFailures).reduce((a, b) => a + b, 0) + Object.values(stats.handshakeFailures).reduce((a, b) => a + b, 0);
  return total(after) - total(before);
}

test('an attacker on the path gets nothing accepted, moves no money, and every attempt is counted and audited', async (t) => {
  const params = reliabilityParams();
  const rounds = scaled(ROUNDS_AT_SCALE_1, params);
  t.timeout(60_000 + rounds * 30_000);
  const random = new SeededRandom(params.seed, 4);
  // The deposit cap out of the way: the victim deposits many times on one day.
  const host = await startTestHost({
    operations: createBankingOperations({ scryptCost: FAST_SCRYPT }),
    config: { depositDailyCapCents: SETTING_CENTS_MAX },
    limits: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
    // Refused handshakes are summarized per interval; a short one, so each round's single refusal is the
    // first after a quiet interval and recorded at once (test/bank-host/handshake-audit.test.ts checks the
    // bound under a storm).
    refusalSummaryIntervalMs: 100,
  });
  const proxy = await AttackerProxy.start(host.port);
  const honest = host.client(VICTIM, (victimKey = await host.addDevice(VICTIM)));
  t.teardown(async () => {
    honest.close();
    await proxy.close();
    await host.close();
  });
  adminSocket = host.adminSocket;
  const services = host.host.state.services;
  const { accountId } = await addCustomer(services, USERNAME, PASSWORD, { scryptCost: FAST_SCRYPT });
  const sent: Transaction[] = [];
  /** How each deposit sent on an attacked connection ended for the kiosk. */
  const attackedAnswers = new Map<string, string>();
  const open: ChannelClient[] = [];
  const ctx: AttackContext = {
    proxy,
    hostPort: host.port,
    random,
    accountId,
    sent,
    async victim() {
      proxy.setTamper(passThrough);
      const client = new ChannelClient({ host: '127.0.0.1', port: proxy.port, deviceId: VICTIM, kShared: victimKey, limits: { requestTimeoutMs: 2_000, livenessProbeTimeoutMs: 1_000, reconnectDelayMinMs: 10_000, reconnectDelayMaxMs: 10_000 } });
      open.push(client);
      client.start();
      await client.waitConnected(3_000);
      await client.request('kiosk.status', testKioskStatus());
      await client.request('signin.password', { username: USERNAME, password: PASSWORD });
      await ctx.takeBaseline();
      return client;
    },
    async openDeposit(client) {
      const tx: Transaction = { requestId: newRequestId(), kind: 'deposit.open', deviceId: VICTIM, body: { accountId }, state: 'pending', resends: 0 };
      sent.push(tx);
      const opened = await client.request('deposit.open', { accountId }, { requestId: tx.requestId });
      tx.state = 'ok';
      tx.result = opened;
      await ctx.takeBaseline();
      return opened.depositId;
    },
    async takeBaseline() {
      baseline = await readCounters(sent.length);
    },
    async deposit(client, depositId) {
      const body = { depositId, notes: notesFor(random.int(1, 1_000) * 100) };
      const tx: Transaction = { requestId: newRequestId(), kind: 'deposit.commit', deviceId: VICTIM, body, state: 'pending', resends: 0 };
      sent.push(tx);
      try {
        await client.request('deposit.commit', body, { requestId: tx.requestId });
        attackedAnswers.set(tx.requestId, 'ok');
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        attackedAnswers.set(tx.requestId, error.code);
      }
    },
  };

  const violations: string[] = [];
  const byAttack: Record<string, number> = {};
  let attempts = 0;
  let accepted = 0;
  for (let round = 0; round < rounds; round++) {
    const order = [...ATTACKS];
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const attack of order) {
      attempts++;
      await ctx.takeBaseline();
      await attack.run(ctx);
      proxy.setTamper(passThrough);
      for (const client of open.splice(0)) client.close();
      const before = baseline;
      const where = `round ${round + 1}, ${attack.name}`;
      // Counters and the audit record land asynchronously (the record is a group commit).
      let after = before.channel;
      let audited: AuditEntry[] = [];
      await eventually(async () => {
        after = ((await sendAdminCommand(adminSocket, 'status', {})) as { channel: ChannelStats }).channel;
        audited = await refusedSince(before.auditSeq);
        return counted(before.channel, after, attack.counter) >= 1 && audited.length >= 1;
      }, 5_000);
      await sleep(100);
      after = ((await sendAdminCommand(adminSocket, 'status', {})) as { channel: ChannelStats }).channel;
      audited = await refusedSince(before.auditSeq);
      const countedHere = counted(before.channel, after, attack.counter);
      if (countedHere !== 1 || allCounted(before.channel, after) !== 1) violations.push(`${where}: counted ${countedHere} as ${attack.counter.reasons.join('/')}, ${allCounted(before.channel, after)} failures in all (expected exactly 1)`);
      const matching = audited.filter((e) => e.action === attack.auditAction && attack.counter.reasons.includes(e.reason ?? ''));
      if (matching.length !== 1 || audited.length !== 1) violations.push(`${where}: ${audited.length} refused audit records (${audited.map((e) => `${e.action}:${e.reason}`).join(', ')}), expected one ${attack.auditAction}`);
      const processed = after.requests - before.channel.requests;
      if (processed > attack.genuineRequestsDelivered) {
        accepted++;
        violations.push(`${where}: the host processed ${processed} requests from the attacked connection, only ${attack.genuineRequestsDelivered} were genuine`);
      }
      if (after.connectionsOpen !== 0) violations.push(`${where}: ${after.connectionsOpen} connections still open after the attack`);
      // The host closes a connection whose records it refused at once: the kiosk sees the connection drop
      // (and resends), it is not left waiting for a timeout on a connection the host no longer reads.
      if (attack.counter.group === 'recordFailures') {
        const answers = sent.slice(before.sentCount).map((tx) => attackedAnswers.get(tx.requestId));
        if (answers.length === 0 || answers.some((code) => code !== 'DISCONNECTED' && !(attack.answerMayArrive && code === 'ok'))) violations.push(`${where}: the kiosk's requests ended ${answers.join(', ')}, expected DISCONNECTED`);
      }
      // What the attacked connection itself got applied: never more than the genuine records delivered.
      const ledger = await inspectLedger(services.db);
      const appliedHere = sent.slice(before.sentCount).filter((tx) => ledger.postingsByRequest[tx.requestId] !== undefined).length;
      if (appliedHere > attack.genuineRequestsDelivered) {
        accepted++;
        violations.push(`${where}: ${appliedHere} deposits applied from the attacked connection`);
      }
      byAttack[attack.name] = (byAttack[attack.name] ?? 0) + countedHere;
    }
  }

  // The victim resends every deposit request (each opening and each commit), same ids, over a clean
  // connection: each ends exactly once.
  honest.start();
  await honest.waitConnected(5_000);
  await honest.request('signin.password', { username: USERNAME, password: PASSWORD });
  for (const tx of sent) {
    try {
      tx.result = (await honest.request(tx.kind, tx.body as never, { requestId: tx.requestId })) as Record<string, unknown>;
      tx.state = 'ok';
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      tx.state = 'failed';
      tx.errorCode = error.code;
    }
    tx.resends++;
  }
  const final = compareWithLedger(sent, await inspectLedger(services.db, services.keys.auditEnc), { final: true, accounts: [accountId] });
  violations.push(...final.violations);
  const ledger = await checkLedger(services.db);
  if (!ledger.ok) violations.push(`ledger check: ${ledger.problems.map((p) => p.message).join('; ')}`);
  const audit = await verifyAuditChain(services.db, { enc: services.keys.auditEnc, mac: services.keys.auditMac, sign: services.keys.auditSign });
  if (!audit.ok) violations.push(`audit verify: ${audit.problem?.message}`);

  await recordScenarioResult({
    scenario: 'attacker proxy (bit flips, replays, reorders, injected records)',
    part: 'attacker',
    iterations: attempts,
    faultsInjected: attempts,
    acknowledged: accepted,
    lost: final.lost.length,
    duplicated: final.duplicated.length,
    invariantViolations: violations.length - accepted,
    measurements: {
      'attempts counted by the host, by attack': Object.entries(byAttack).map(([k, n]) => `${k} ${n}`).join('; '),
      'victim deposit requests (opens and commits), each retried over a clean connection': `${sent.length} sent, ${final.acknowledgedOk} in the ledger once`,
    },
  });
  t.log(JSON.stringify(byAttack));
  t.deepEqual(violations, []);
  t.is(accepted, 0);
  t.deepEqual(final.details, [], 'lost or duplicated victim deposits');
  t.is(final.acknowledgedOk, sent.length, 'every victim deposit request ends in the ledger exactly once');
  t.true(sent.some((tx) => tx.kind === 'deposit.commit'), 'the victim committed deposits');
});
