// Kiosks under load, as the reliability scenarios drive them: each is a real ChannelClient that reports its
// status (cassettes, note acceptor) on every connection, signs a customer in with a password and runs
// deposits of counted notes (deposit.open, then deposit.commit), two-phase withdrawals (complete, short
// complete or reverse) and transfers, one request at a time as a kiosk does. A request whose answer does
// not arrive (connection lost, timeout, host restarting) is sent again with the SAME request id until an
// answer comes; every answer is written to the load's transaction log. `compareWithLedger` then holds that
// log against what the host's database says: every acknowledged transaction present exactly once (each
// deposit opened once and credited once), nothing applied that was refused, no hold lost, and — when every
// request has its answer — balances that match.
import { ChannelClient } from '../../protocol/client.js';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { ClientLimits } from '../../protocol/limits.js';
import type { MessageType, NoteCount, RequestBody, ResultOf } from '../../protocol/messages.js';
import { notesFor, testKioskStatus } from '../helpers/kiosk-cash.js';
import type { LedgerInspection } from './ledger-inspection.js';
import type { SeededRandom } from './seeded-random.js';

export type MoneyKind = 'deposit.open' | 'deposit.commit' | 'withdraw.authorize' | 'withdraw.complete' | 'withdraw.reverse' | 'transfer';

export interface Transaction {
  readonly requestId: string;
  readonly kind: MoneyKind;
  readonly deviceId: string;
  readonly body: Record<string, unknown>;
  /** `pending` until an answer arrives; then the client's view of the outcome. */
  state: 'pending' | 'ok' | 'failed';
  result?: Record<string, unknown>;
  errorCode?: string;
  /** Times the request was sent again with the same id. */
  resends: number;
}

export interface KioskIdentity {
  readonly deviceId: string;
  readonly kShared: Buffer;
  readonly username: string;
  readonly password: string;
  /** [chequing, savings] */
  readonly accountIds: readonly string[];
}

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly random: SeededRandom;
  readonly clientLimits?: Partial<ClientLimits>;
  /** Per-send timeout: a request with no answer after this is sent again. */
  readonly requestTimeoutMs?: number;
  /** Money put in the chequing account before the mix starts (whole dollars: it is notes). */
  readonly openingDepositCents?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Withdrawals are multiples of $20, which the test kiosk's $20 and $50 cassettes always pay. */
const NOTE_CENTS = 2_000;
/** The largest deposit in the mix: $500 of notes. */
const DEPOSIT_DOLLARS_MAX = 500;

export class KioskLoad {
  readonly client: ChannelClient;
  readonly transactions: Transaction[] = [];
  private connectionGeneration = 0;
  private signedInGeneration = -1;
  private statusReportedGeneration = -1;
  private stopping = false;
  private running: Promise<void> | undefined;
  /** Retryable failures seen, by code (DISCONNECTED, TIMEOUT, ...). */
  readonly retriesByCode: Record<string, number> = {};
  /** Each answered money request: when it was first sent and how long until its answer (resends included). */
  readonly latencies: { readonly sentAtMs: number; readonly ms: number }[] = [];

  constructor(
    readonly identity: KioskIdentity,
    private readonly options: LoadOptions,
  ) {
    this.client = new ChannelClient({
      host: options.host,
      port: options.port,
      deviceId: identity.deviceId,
      kShared: identity.kShared,
      limits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200, connectTimeoutMs: 2_000, ...options.clientLimits },
    });
    this.client.on('connected', () => this.connectionGeneration++);
    this.client.on('disconnected', () => this.connectionGeneration++);
  }

  /** Starts the mix of operations; runs until `stop()`. */
  start(): void {
    this.client.start();
    this.running = this.run();
  }

  /** Lets the operation in progress finish (settling an open authorization), then closes the client. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.client.close();
  }

  private async run(): Promise<void> {
    const random = this.options.random;
    const [chequing, savings] = this.identity.accountIds as [string, string];
    await this.deposit(chequing, this.options.openingDepositCents ?? 500_000);
    while (!this.stopping) {
      const roll = random.next();
      if (roll < 0.35) {
        await this.deposit(chequing, random.int(1, DEPOSIT_DOLLARS_MAX) * 100);
      } else if (roll < 0.8) {
        const amountCents = NOTE_CENTS * random.int(1, 5);
        const authorized = await this.send('withdraw.authorize', { accountId: chequing, amountCents });
        if (!authorized.ok) continue;
        const authorizationId = authorized.result.authorizationId;
        const settle = random.next();
        if (settle < 0.6) await this.send('withdraw.complete', { authorizationId, dispensedCents: amountCents });
        else if (settle < 0.8) await this.send('withdraw.complete', { authorizationId, dispensedCents: amountCents - NOTE_CENTS });
        else await this.send('withdraw.reverse', { authorizationId });
      } else {
        const [from, to] = random.chance(0.5) ? [chequing, savings] : [savings, chequing];
        await this.send('transfer', { fromAccountId: from, toAccountId: to, amountCents: random.int(1, 20_000) });
      }
    }
  }

  /** A customer's deposit: opened while signed in, then the notes the acceptor counted committed. Each is its
   *  own request, resent with its own id until answered. */
  private async deposit(accountId: string, cents: number): Promise<void> {
    const opened = await this.send('deposit.open', { accountId });
    if (!opened.ok) return;
    await this.send('deposit.commit', { depositId: opened.result.depositId, notes: notesFor(cents) });
  }

  private sessionValid(): boolean {
    return this.client.connected && this.signedInGeneration === this.connectionGeneration;
  }

  private async waitConnected(): Promise<void> {
    while (!this.client.connected) {
      try {
        await this.client.waitConnected(2_000);
      } catch {
        // Still down (a host restarting takes a while): keep waiting; the client reconnects by itself.
      }
    }
  }

  /** The kiosk's status, on every new connection before anything else: the host takes deposits and pays
   *  withdrawals only as the notes a kiosk reported allow. A status report is not a money transaction and is
   *  not logged; resending it with the same id reports the same again. */
  private async reportStatus(): Promise<void> {
    const requestId = newRequestId();
    for (;;) {
      await this.waitConnected();
      const generation = this.connectionGeneration;
      try {
        await this.client.request('kiosk.status', testKioskStatus(), { requestId, timeoutMs: this.options.requestTimeoutMs ?? 3_000 });
        this.statusReportedGeneration = generation;
        return;
      } catch (error) {
        if (!(error instanceof ProtocolError) || !error.retryable) throw new Error(`status report failed: ${String(error)}`);
        this.retriesByCode[error.code] = (this.retriesByCode[error.code] ?? 0) + 1;
        await sleep(20);
      }
    }
  }

  private async signIn(): Promise<void> {
    const requestId = newRequestId();
    for (;;) {
      await this.waitConnected();
      const generation = this.connectionGeneration;
      try {
        await this.client.request('signin.password', { username: this.identity.username, password: this.identity.password }, { requestId, timeoutMs: this.options.requestTimeoutMs ?? 3_000 });
        this.signedInGeneration = generation;
        return;
      } catch (error) {
        if (error instanceof ProtocolError && error.code === 'ALREADY_SIGNED_IN') {
          this.signedInGeneration = generation;
          return;
        }
        if (!(error instanceof ProtocolError) || !error.retryable) throw new Error(`sign-in failed: ${String(error)}`);
        this.retriesByCode[error.code] = (this.retriesByCode[error.code] ?? 0) + 1;
        await sleep(20);
      }
    }
  }

  /** Sends until the host answers, always with the same request id. Money requests are logged. */
  async send<T extends MoneyKind>(kind: T, body: RequestBody<T>): Promise<{ ok: true; result: ResultOf<T> } | { ok: false; code: string }> {
    const transaction: Transaction = { requestId: newRequestId(), kind, deviceId: this.identity.deviceId, body: body as Record<string, unknown>, state: 'pending', resends: 0 };
    this.transactions.push(transaction);
    const needsSession = kind !== 'withdraw.complete' && kind !== 'withdraw.reverse' && kind !== 'deposit.commit';
    const sentAtMs = Date.now();
    const answered = () => this.latencies.push({ sentAtMs, ms: Date.now() - sentAtMs });
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) transaction.resends++;
      await this.waitConnected();
      if (this.statusReportedGeneration !== this.connectionGeneration) await this.reportStatus();
      if (needsSession && !this.sessionValid()) await this.signIn();
      try {
        const result = await this.client.request(kind as MessageType, body as never, { requestId: transaction.requestId, timeoutMs: this.options.requestTimeoutMs ?? 3_000 });
        transaction.state = 'ok';
        transaction.result = result as Record<string, unknown>;
        answered();
        return { ok: true, result: result as ResultOf<T> };
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        if (error.retryable) {
          this.retriesByCode[error.code] = (this.retriesByCode[error.code] ?? 0) + 1;
          await sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 5)));
          continue;
        }
        if (error.code === 'NOT_SIGNED_IN' || error.code === 'SESSION_EXPIRED') this.signedInGeneration = -1;
        transaction.state = 'failed';
        transaction.errorCode = error.code;
        answered();
        return { ok: false, code: error.code };
      }
    }
  }
}

export interface LedgerComparison {
  /** Money transactions the client was given an answer for (ok or refused). */
  readonly acknowledged: number;
  readonly acknowledgedOk: number;
  readonly pending: number;
  /** Request ids of acknowledged effects missing from the ledger (postings, holds, settlements). */
  readonly lost: string[];
  /** Request ids applied more than once. */
  readonly duplicated: string[];
  /** Everything else that disagrees: refused but applied, phantom postings, balances. */
  readonly violations: string[];
  /** What each lost or duplicated transaction looked like, for the failure message. */
  readonly details: string[];
}

/** Holds every transaction in the logs against the database. With `final`, no request may still be
 *  pending and the balances must equal what the answers add up to. */
export function compareWithLedger(transactions: readonly Transaction[], ledger: LedgerInspection, options: { final: boolean; accounts?: readonly string[] }): LedgerComparison {
  const lost: string[] = [];
  const duplicated: string[] = [];
  const violations: string[] = [];
  const details: string[] = [];
  const holdsByRequest = new Map<string, string[]>();
  for (const hold of Object.values(ledger.holds)) {
    if (hold.requestId === undefined) continue;
    holdsByRequest.set(hold.requestId, [...(holdsByRequest.get(hold.requestId) ?? []), hold.authorizationId]);
  }
  const depositsByOpenRequest = new Map<string, string[]>();
  for (const deposit of Object.values(ledger.deposits)) {
    if (deposit.openRequestId === undefined) continue;
    depositsByOpenRequest.set(deposit.openRequestId, [...(depositsByOpenRequest.get(deposit.openRequestId) ?? []), deposit.depositId]);
  }
  const known = new Set(transactions.map((t) => t.requestId));
  let acknowledged = 0;
  let acknowledgedOk = 0;
  let pending = 0;
  const expectedBalance = new Map<string, number>();
  const expectedHeld = new Map<string, number>();
  const add = (map: Map<string, number>, accountId: string, cents: number) => map.set(accountId, (map.get(accountId) ?? 0) + cents);
  const settledAuthorizations = new Set<string>();
  /** Deposits whose credit has been counted: a deposit adds to the balance once, whatever answered it. */
  const creditedDeposits = new Set<string>();
  for (const t of transactions) {
    if ((t.kind === 'withdraw.complete' || t.kind === 'withdraw.reverse') && t.state === 'ok') settledAuthorizations.add(t.body.authorizationId as string);
  }

  for (const t of transactions) {
    const postings = ledger.postingsByRequest[t.requestId];
    const postingCount = postings?.postingIds.length ?? 0;
    const holds = holdsByRequest.get(t.requestId) ?? [];
    const opened = depositsByOpenRequest.get(t.requestId) ?? [];
    if (postingCount > 1 || holds.length > 1 || opened.length > 1) {
      duplicated.push(t.requestId);
      details.push(`${t.kind} ${t.requestId} applied ${Math.max(postingCount, holds.length, opened.length)} times`);
      continue;
    }
    if (postings && postings.legs !== 2 * postingCount) violations.push(`${t.kind} ${t.requestId}: ${postings.legs} legs for ${postingCount} posting(s)`);
    if (t.state === 'pending') {
      pending++;
      continue;
    }
    acknowledged++;
    if (t.state === 'failed') {
      if (postingCount > 0 || holds.length > 0 || opened.length > 0) violations.push(`${t.kind} ${t.requestId} was refused (${t.errorCode}) but applied`);
      continue;
    }
    acknowledgedOk++;
    switch (t.kind) {
      case 'transfer': {
        if (postingCount !== 1) {
          lost.push(t.requestId);
          details.push(`${t.kind} ${t.requestId} was acknowledged but is not in the ledger`);
        }
        const amount = t.body.amountCents as number;
        add(expectedBalance, t.body.fromAccountId as string, -amount);
        add(expectedBalance, t.body.toAccountId as string, amount);
        break;
      }
      case 'deposit.open': {
        const depositId = t.result!.depositId as string;
        const deposit = ledger.deposits[depositId];
        if (deposit === undefined || deposit.openRequestId !== t.requestId || deposit.accountId !== t.body.accountId) {
          lost.push(t.requestId);
          details.push(`deposit ${depositId} was opened for the kiosk but is ${deposit === undefined ? 'not in the ledger' : 'not the one it asked for'}`);
        }
        if (postingCount > 0) violations.push(`deposit.open ${t.requestId} posted money`);
        break;
      }
      case 'deposit.commit': {
        const depositId = t.body.depositId as string;
        const deposit = ledger.deposits[depositId];
        const notesCents = (t.body.notes as NoteCount[]).reduce((sum, note) => sum + note.denominationCents * note.count, 0);
        const creditedCents = t.result!.creditedCents as number;
        if (creditedCents !== notesCents) violations.push(`deposit.commit ${t.requestId} credited ${creditedCents} cents for notes worth ${notesCents}`);
        const wanted = creditedCents > 0 ? 'committed' : 'cancelled';
        if (deposit === undefined || deposit.status !== wanted || deposit.creditedCents !== creditedCents) {
          lost.push(t.requestId);
          details.push(`deposit.commit of ${depositId} was acknowledged but the deposit is ${deposit === undefined ? 'missing' : `${deposit.status} with ${deposit.creditedCents ?? 0} cents`}`);
          break;
        }
        // The first acknowledged commit of a deposit posts its credit; a repeat (same notes, another id)
        // answers the same and posts nothing.
        const first = !creditedDeposits.has(depositId);
        creditedDeposits.add(depositId);
        const postingWanted = first && creditedCents > 0;
        if (postingCount !== (postingWanted ? 1 : 0) || (postingWanted && !postings!.postingIds.includes(deposit.postingId ?? ''))) {
          (postingCount > (postingWanted ? 1 : 0) ? duplicated : lost).push(t.requestId);
          details.push(`deposit.commit ${t.requestId} of ${depositId} credited ${creditedCents} cents with ${postingCount} posting(s)`);
        }
        if (first) add(expectedBalance, deposit.accountId, creditedCents);
        break;
      }
      case 'withdraw.authorize': {
        const authorizationId = t.result!.authorizationId as string;
        const hold = ledger.holds[authorizationId];
        if (hold === undefined || hold.requestId !== t.requestId) {
          lost.push(t.requestId);
          details.push(`authorization ${authorizationId} was acknowledged but its hold is gone`);
          break;
        }
        if (!settledAuthorizations.has(authorizationId)) {
          if (options.final && hold.status !== 'held') violations.push(`hold ${authorizationId} is ${hold.status} though no settlement was acknowledged`);
          if (hold.status === 'held') add(expectedHeld, hold.accountId, hold.amountCents);
        }
        break;
      }
      case 'withdraw.complete':
      case 'withdraw.reverse': {
        const authorizationId = t.body.authorizationId as string;
        const hold = ledger.holds[authorizationId];
        const wanted = t.kind === 'withdraw.complete' ? 'completed' : 'reversed';
        const postedCents = t.kind === 'withdraw.complete' ? (t.result!.postedCents as number) : 0;
        if (hold === undefined || hold.status !== wanted || (hold.postedCents ?? 0) !== postedCents) {
          lost.push(t.requestId);
          details.push(`${t.kind} of ${authorizationId} was acknowledged but the hold is ${hold?.status ?? 'missing'}`);
          break;
        }
        if (postingCount !== (postedCents > 0 ? 1 : 0)) {
          lost.push(t.requestId);
          details.push(`${t.kind} ${t.requestId} posted ${postedCents} cents but has ${postingCount} posting(s)`);
        }
        if (postedCents > 0) add(expectedBalance, hold.accountId, -postedCents);
        break;
      }
    }
  }
  // Postings and holds nobody asked for (or whose request the client never logged).
  for (const requestId of Object.keys(ledger.postingsByRequest)) {
    if (!known.has(requestId)) violations.push(`posting for unknown request ${requestId}`);
  }
  for (const requestId of holdsByRequest.keys()) {
    if (!known.has(requestId)) violations.push(`hold for unknown request ${requestId}`);
  }
  for (const requestId of depositsByOpenRequest.keys()) {
    if (!known.has(requestId)) violations.push(`deposit opened for unknown request ${requestId}`);
  }
  if (ledger.postingsWithoutRequest > 0) violations.push(`${ledger.postingsWithoutRequest} posting legs carry no request id`);
  if (options.final) {
    if (pending > 0) violations.push(`${pending} requests never got an answer`);
    // Every deposit the kiosks opened was committed: none is left for an operator to find.
    for (const deposit of Object.values(ledger.deposits)) {
      if (deposit.status === 'open') violations.push(`deposit ${deposit.depositId} (opened by request ${deposit.openRequestId}) was never committed`);
    }
    for (const accountId of options.accounts ?? []) {
      const actual = ledger.balances[accountId];
      const balance = expectedBalance.get(accountId) ?? 0;
      const held = expectedHeld.get(accountId) ?? 0;
      if (actual === undefined || actual.balanceCents !== balance || actual.heldCents !== held) {
        violations.push(`account ${accountId}: ledger says balance ${actual?.balanceCents} held ${actual?.heldCents}, the answers add up to ${balance} held ${held}`);
      }
    }
    if (ledger.auditOkByRequest !== undefined) {
      for (const t of transactions) {
        if (t.state !== 'ok') continue;
        const records = ledger.auditOkByRequest[t.requestId] ?? 0;
        if (records !== 1) violations.push(`${t.kind} ${t.requestId} has ${records} ok audit records, not 1`);
      }
    }
  }
  return { acknowledged, acknowledgedOk, pending, lost, duplicated, violations, details };
}
