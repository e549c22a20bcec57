// Property: kiosks running random mixes of operations over the real channel (TLS 1.3-PSK, framing,
// dispatcher, idempotency, LevelDB), with repeated request ids thrown in, never break the ledger: it checks
// clean, sums to zero, and customers hold exactly what the successful answers say.
import test from 'ava';
import fc from 'fast-check';
import type { ChannelClient } from '../../protocol/client.js';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { MessageType, NoteCount } from '../../protocol/messages.js';
import { openAccount } from '../../bank-host/customers/admin.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { listHolds } from '../../bank-host/ledger/operator.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import { startTestHost } from '../helpers/host.js';
import { TEST_ACCEPTED_CENTS, notesFor } from '../helpers/kiosk-cash.js';

const operations = createBankingOperations({ scryptCost: { log2N: 10, r: 8, p: 1 } });
const PASSWORD = 'a long enough password';
const CUSTOMERS = 3;
const RUNS = 4;

type Command =
  /** Opens a deposit and commits these notes (valid or not). */
  | { readonly op: 'deposit'; readonly who: number; readonly acct: number; readonly notes: readonly unknown[] }
  | { readonly op: 'authorize'; readonly who: number; readonly acct: number; readonly cents: number }
  | { readonly op: 'complete'; readonly hold: number; readonly fraction: number }
  | { readonly op: 'reverse'; readonly hold: number }
  | { readonly op: 'transfer'; readonly who: number; readonly from: number; readonly to: number; readonly cents: number }
  | { readonly op: 'foreign'; readonly who: number; readonly victim: number }
  /** Sends an earlier request again with the same id, as a kiosk does when an answer is lost. */
  | { readonly op: 'retry'; readonly earlier: number };

const who = fc.nat(CUSTOMERS - 1);
const acct = fc.nat(1);
// Valid, over-limit, non-dispensable and zero amounts alike.
const cents = fc.oneof(fc.integer({ min: 1, max: 150_000 }), fc.integer({ min: 1, max: 30 }).map((n) => n * 2_000), fc.constantFrom(0, -500, 1_000_001));
/** The notes a deposit commits: mostly what the test kiosk takes (up to $1,500), sometimes none (the customer
 *  took them back), sometimes a list the host refuses. */
const notes = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 1_500 }).map((dollars): readonly unknown[] => notesFor(dollars * 100)), weight: 6 },
  { arbitrary: fc.constant([]), weight: 1 },
  {
    arbitrary: fc.constantFrom<readonly unknown[]>(
      [{ denominationCents: 2_500, count: 1 }],
      [{ denominationCents: 2_000, count: 0 }],
      [{ denominationCents: 2_000, count: 1 }, { denominationCents: 2_000, count: 1 }],
      [{ denominationCents: 2_000, count: -1 }],
    ),
    weight: 2,
  },
);
/** What the host credits for `notes`, or undefined when it must refuse them. */
function creditFor(list: readonly unknown[]): number | undefined {
  const seen = new Set<number>();
  let cents = 0;
  for (const note of list as NoteCount[]) {
    if (!(TEST_ACCEPTED_CENTS as readonly number[]).includes(note.denominationCents) || seen.has(note.denominationCents) || note.count < 1) return undefined;
    seen.add(note.denominationCents);
    cents += note.denominationCents * note.count;
  }
  return cents;
}
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('deposit' as const), who, acct, notes }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('authorize' as const), who, acct, cents }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('complete' as const), hold: fc.nat(60), fraction: fc.double({ min: 0, max: 1.2, noNaN: true }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('reverse' as const), hold: fc.nat(60) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('transfer' as const), who, from: acct, to: acct, cents }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('foreign' as const), who, victim: who }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('retry' as const), earlier: fc.nat(1_000) }), weight: 2 },
);

interface Sent {
  readonly client: ChannelClient;
  readonly type: MessageType;
  readonly body: Record<string, unknown>;
  readonly requestId: string;
  readonly answer: unknown;
}

const describeAnswer = (answer: unknown) => (answer instanceof ProtocolError ? `error ${answer.code} ${answer.message}` : JSON.stringify(answer));

test('random operations from several kiosks over the real channel, with retries, keep the ledger whole', async (t) => {
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(command, { minLength: 1, maxLength: 6 }), { minLength: 200, maxLength: 300 }), async (rounds) => {
      // The deposit cap out of the way: every run deposits on one day.
      const h = await startTestHost({ operations, config: { dailyWithdrawalLimitCents: 10_000_000, depositDailyCapCents: 100_000_000 } });
      try {
        const customers: { client: ChannelClient; accounts: string[] }[] = [];
        for (let i = 0; i < CUSTOMERS; i++) {
          const client = await h.connectedClient(`kiosk-prop-${i}`);
          const { accounts } = await client.request('register', { username: `prop-${i}`, password: PASSWORD });
          const savings = await openAccount(h.host.state.services, `prop-${i}`, 'savings');
          customers.push({ client, accounts: [accounts[0]!.accountId, savings.accountId] });
        }
        const sent: Sent[] = [];
        // A kiosk never has one request id in flight twice (its client refuses): retry only settled requests.
        const retrying = new Set<string>();
        const holds: { authorizationId: string; client: ChannelClient; cents: number }[] = [];
        const completed = new Set<string>();
        let expectedCustomerCents = 0;

        const send = async (client: ChannelClient, type: MessageType, body: Record<string, unknown>): Promise<unknown> => {
          const requestId = newRequestId();
          const answer = await client.request(type, body as never, { requestId }).catch((error: unknown) => error);
          if (answer instanceof Error && !(answer instanceof ProtocolError)) throw answer;
          sent.push({ client, type, body, requestId, answer });
          const key = `${type}:${answer instanceof ProtocolError ? answer.code : 'ok'}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
          return answer;
        };

        const run = async (c: Command): Promise<void> => {
          switch (c.op) {
            case 'deposit': {
              const me = customers[c.who]!;
              const opened = await send(me.client, 'deposit.open', { accountId: me.accounts[c.acct] });
              if (opened instanceof ProtocolError) return;
              const answer = await send(me.client, 'deposit.commit', { depositId: (opened as { depositId: string }).depositId, notes: c.notes });
              const credit = creditFor(c.notes);
              if (answer instanceof ProtocolError) {
                if (credit !== undefined) throw new Error(`notes worth ${credit} cents were refused: ${describeAnswer(answer)}`);
                return;
              }
              if ((answer as { creditedCents: number }).creditedCents !== credit) throw new Error(`notes worth ${credit} cents credited ${describeAnswer(answer)}`);
              expectedCustomerCents += credit;
              return;
            }
            case 'authorize': {
              const me = customers[c.who]!;
              const answer = await send(me.client, 'withdraw.authorize', { accountId: me.accounts[c.acct], amountCents: c.cents });
              if (!(answer instanceof ProtocolError)) holds.push({ authorizationId: (answer as { authorizationId: string }).authorizationId, client: me.client, cents: c.cents });
              return;
            }
            case 'complete':
            case 'reverse': {
              const hold = holds[c.hold % Math.max(holds.length, 1)];
              if (hold === undefined) return;
              if (c.op === 'reverse') {
                await send(hold.client, 'withdraw.reverse', { authorizationId: hold.authorizationId });
                return;
              }
              const answer = await send(hold.client, 'withdraw.complete', { authorizationId: hold.authorizationId, dispensedCents: Math.floor(hold.cents * c.fraction) });
              if (!(answer instanceof ProtocolError) && !completed.has(hold.authorizationId)) {
                completed.add(hold.authorizationId);
                expectedCustomerCents -= (answer as { postedCents: number }).postedCents;
              }
              return;
            }
            case 'transfer': {
              const me = customers[c.who]!;
              await send(me.client, 'transfer', { fromAccountId: me.accounts[c.from], toAccountId: me.accounts[c.to], amountCents: c.cents });
              return;
            }
            case 'foreign': {
              const me = customers[c.who]!;
              const opened = await send(me.client, 'deposit.open', { accountId: customers[c.victim]!.accounts[1] });
              if (c.who !== c.victim && !(opened instanceof ProtocolError && opened.code === 'UNKNOWN_ACCOUNT')) {
                throw new Error(`a customer reached another customer's account: ${describeAnswer(opened)}`);
              }
              if (opened instanceof ProtocolError) return;
              const answer = await send(me.client, 'deposit.commit', { depositId: (opened as { depositId: string }).depositId, notes: notesFor(100) });
              if (!(answer instanceof ProtocolError)) expectedCustomerCents += 100;
              return;
            }
            case 'retry': {
              const earlier = sent[c.earlier % Math.max(sent.length, 1)];
              if (earlier === undefined || retrying.has(earlier.requestId)) return;
              retrying.add(earlier.requestId);
              const again = await earlier.client
                .request(earlier.type, earlier.body as never, { requestId: earlier.requestId })
                .catch((error: unknown) => error)
                .finally(() => retrying.delete(earlier.requestId));
              seen.set('retry', (seen.get('retry') ?? 0) + 1);
              // The first answer comes back, whatever happened since; nothing is applied again.
              if (describeAnswer(again) !== describeAnswer(earlier.answer)) {
                throw new Error(`a retried ${earlier.type} answered ${describeAnswer(again)}, first ${describeAnswer(earlier.answer)}`);
              }
              return;
            }
          }
        };
        for (const round of rounds) await Promise.all(round.map(run));

        const report = await checkLedger(h.host.state.services.db);
        if (!report.ok) throw new Error(`ledger check failed: ${JSON.stringify(report.problems.slice(0, 5))}`);
        if (report.totalBalanceCents !== 0) throw new Error(`balances sum to ${report.totalBalanceCents}`);
        if (report.customerBalanceCents !== expectedCustomerCents) {
          throw new Error(`customers hold ${report.customerBalanceCents}, the successful answers say ${expectedCustomerCents}`);
        }
        const heldCents = (await listHolds(h.host.state.services)).reduce((sum, hold) => sum + hold.amountCents, 0);
        if (heldCents > report.customerBalanceCents) throw new Error('more is held than customers have');
      } finally {
        await h.close();
      }
    }),
    // Each run starts a host; shrinking a failure over the channel would take minutes, so report it as found.
    { numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
  );
  const total = [...seen.values()].reduce((sum, n) => sum + n, 0);
  t.log(`${total} requests over the channel in ${RUNS} runs`, Object.fromEntries([...seen].sort()));
  t.true(total >= 2_000, `only ${total} requests`);
  for (const key of ['deposit.open:ok', 'deposit.commit:ok', 'deposit.commit:BAD_NOTES', 'deposit.commit:BAD_BODY', 'deposit.open:UNKNOWN_ACCOUNT', 'withdraw.authorize:ok', 'withdraw.authorize:NOT_DISPENSABLE', 'withdraw.complete:ok', 'withdraw.complete:AUTHORIZATION_SETTLED', 'withdraw.reverse:ok', 'transfer:ok', 'transfer:SAME_ACCOUNT', 'retry']) {
    t.true((seen.get(key) ?? 0) > 0, `no ${key} in any run`);
  }
});
