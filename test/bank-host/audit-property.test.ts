import test from 'ava';
import fc from 'fast-check';
import { ProtocolError } from '../../protocol/errors.js';
import { verifyAuditChain } from '../../bank-host/audit/verify.js';
import { addCustomer, openAccount } from '../../bank-host/customers/admin.js';
import { AdminError } from '../../bank-host/errors.js';
import { resolveHold } from '../../bank-host/ledger/operator.js';
import { POSTING_PREFIX, type PostingLeg } from '../../bank-host/ledger/records.js';
import type { ConnectionState } from '../../bank-host/operations/context.js';
import { TEST_SCRYPT_COST, type Harness, createHarness } from '../helpers/dispatcher-harness.js';
import { notesFor } from '../helpers/kiosk-cash.js';

const PASSWORD = 'correct horse battery';
const CUSTOMERS = 3;
const DEVICES = ['kiosk-01', 'kiosk-02'];
/** Customer actions whose success moves money: each such posting must have exactly one record, and back.
 *  An operator's `hold.resolve` moves money too; its postings carry the authorization instead of a request. */
const MONEY_ACTIONS = new Set(['deposit.commit', 'withdraw.complete', 'transfer']);

type Command =
  /** Opens a deposit and commits notes worth `cents`; with `diskFullAtCommit`, the next synced batch after the
   *  open fails (most likely the commit's, the write that moves the money). */
  | { readonly op: 'deposit'; readonly who: number; readonly acct: number; readonly cents: number; readonly diskFullAtCommit: boolean }
  | { readonly op: 'authorize'; readonly who: number; readonly acct: number; readonly cents: number }
  | { readonly op: 'complete'; readonly hold: number; readonly fraction: number }
  | { readonly op: 'reverse'; readonly hold: number }
  /** The operator settles a hold by hand (`holds complete|reverse`). */
  | { readonly op: 'operatorResolve'; readonly hold: number; readonly complete: boolean }
  | { readonly op: 'transfer'; readonly who: number; readonly from: number; readonly to: number; readonly cents: number }
  | { readonly op: 'badPassword' | 'balance' | 'history' | 'signedOut'; readonly who: number }
  /** The next synced batch fails, as a full disk would make it. */
  | { readonly op: 'diskFull' };

const who = fc.nat(CUSTOMERS - 1);
const acct = fc.nat(1);
const cents = fc.oneof(fc.integer({ min: 1, max: 150_000 }), fc.integer({ min: 1, max: 20 }).map((n) => n * 2_000));
/** A deposit is notes: whole dollars. */
const depositCents = fc.integer({ min: 1, max: 1_500 }).map((dollars) => dollars * 100);
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('deposit' as const), who, acct, cents: depositCents, diskFullAtCommit: fc.nat(4).map((n) => n === 0) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('authorize' as const), who, acct, cents }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('complete' as const), hold: fc.nat(40), fraction: fc.double({ min: 0, max: 1.2, noNaN: true }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('reverse' as const), hold: fc.nat(40) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('operatorResolve' as const), hold: fc.nat(40), complete: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('transfer' as const), who, from: acct, to: acct, cents }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constantFrom('badPassword' as const, 'balance' as const, 'history' as const, 'signedOut' as const), who }), weight: 2 },
  { arbitrary: fc.constant({ op: 'diskFull' as const }), weight: 1 },
);

class DiskFullError extends Error {}

test('any mix of operations, refusals and failed writes leaves a log that verifies, with exactly one record per posting', async (t) => {
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(command, { minLength: 1, maxLength: 5 }), { minLength: 30, maxLength: 60 }), async (rounds) => {
      // The deposit cap out of the way: every run deposits on one day.
      const h = await createHarness({ config: { dailyWithdrawalLimitCents: 300_000, depositDailyCapCents: 100_000_000 }, errorsExpected: true });
      try {
        const { db, keys } = h.services;
        let failNextWrite = false;
        const writeDurably = db.writeDurably.bind(db);
        db.writeDurably = async (ops) => {
          if (failNextWrite) {
            failNextWrite = false;
            throw new DiskFullError('ENOSPC: no space left on device');
          }
          return writeDurably(ops);
        };
        const note = (type: string, answer: unknown) => {
          const key = `${type}:${answer instanceof ProtocolError || answer instanceof AdminError ? answer.code : answer instanceof DiskFullError ? 'DISK_FULL' : 'ok'}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        };
        // Answers that should each have left exactly one record: every one the host gave, refusals of a
        // signed-out request included, except INTERNAL, which the host answers when the batch holding the
        // change (or the record of its refusal) failed to write.
        let customerAnswers = 0;
        let operatorAnswers = 0;
        const call: Harness['call'] = async (connection, type, body) => {
          const answer = await h.call(connection, type, body);
          note(type, answer);
          if (!(answer instanceof ProtocolError && answer.code === 'INTERNAL')) customerAnswers++;
          return answer;
        };

        const customers: { connection: ConnectionState; username: string; accounts: string[] }[] = [];
        for (let i = 0; i < CUSTOMERS; i++) {
          const username = `customer${i}`;
          const added = await addCustomer(h.services, username, PASSWORD, { scryptCost: TEST_SCRYPT_COST });
          const second = await openAccount(h.services, username, 'savings');
          const connection = await h.connect(DEVICES[i % DEVICES.length]);
          await h.ok(connection, 'signin.password', { username, password: PASSWORD });
          customerAnswers++;
          customers.push({ connection, username, accounts: [added.accountId, second.accountId] });
        }
        // Each kiosk's first status report (the harness sends it when the kiosk first connects) is an answer
        // with its record too.
        customerAnswers += DEVICES.length;
        const holds: { authorizationId: string; deviceId: string; cents: number }[] = [];

        const run = async (c: Command): Promise<void> => {
          switch (c.op) {
            case 'deposit': {
              const me = customers[c.who]!;
              const opened = await call(me.connection, 'deposit.open', { accountId: me.accounts[c.acct] });
              if (opened instanceof ProtocolError) return;
              if (c.diskFullAtCommit) failNextWrite = true;
              await call(me.connection, 'deposit.commit', { depositId: opened.depositId, notes: notesFor(c.cents) });
              return;
            }
            case 'authorize': {
              const me = customers[c.who]!;
              const answer = await call(me.connection, 'withdraw.authorize', { accountId: me.accounts[c.acct], amountCents: c.cents });
              if (!(answer instanceof ProtocolError)) holds.push({ authorizationId: answer.authorizationId, deviceId: me.connection.deviceId, cents: c.cents });
              return;
            }
            case 'complete':
            case 'reverse': {
              const hold = holds[c.hold % Math.max(holds.length, 1)];
              if (hold === undefined) return;
              const kiosk = await h.connect(hold.deviceId);
              if (c.op === 'reverse') await call(kiosk, 'withdraw.reverse', { authorizationId: hold.authorizationId });
              else await call(kiosk, 'withdraw.complete', { authorizationId: hold.authorizationId, dispensedCents: Math.floor(hold.cents * c.fraction) });
              return;
            }
            case 'operatorResolve': {
              // Counted from the newest: the holds a kiosk has not settled yet are mostly the recent ones.
              const hold = holds[holds.length - 1 - (c.hold % 3)];
              if (hold === undefined) return;
              try {
                await resolveHold(h.services, hold.authorizationId, c.complete ? 'complete' : 'reverse');
                note('hold.resolve', 'ok');
                operatorAnswers++;
              } catch (error) {
                if (error instanceof AdminError) {
                  note('hold.resolve', error);
                  operatorAnswers++;
                } else if (error instanceof DiskFullError) note('hold.resolve', error);
                else throw error;
              }
              return;
            }
            case 'transfer': {
              const me = customers[c.who]!;
              await call(me.connection, 'transfer', { fromAccountId: me.accounts[c.from], toAccountId: me.accounts[c.to], amountCents: c.cents });
              return;
            }
            case 'badPassword':
              await call(await h.connect(DEVICES[0]), 'signin.password', { username: customers[c.who]!.username, password: 'not the password' });
              return;
            case 'balance':
              await call(customers[c.who]!.connection, 'balance', { accountId: customers[c.who]!.accounts[0] });
              return;
            case 'history':
              await call(customers[c.who]!.connection, 'history', { accountId: customers[c.who]!.accounts[1] });
              return;
            case 'signedOut':
              await call(await h.connect(DEVICES[1]), 'deposit.open', { accountId: customers[c.who]!.accounts[0] });
              return;
            case 'diskFull':
              failNextWrite = true;
              return;
          }
        };
        for (const round of rounds) await Promise.all(round.map(run));
        failNextWrite = false;
        // The only errors the host logged are the writes this test failed.
        const unexpected = h.loggedErrors.filter((line) => !line.includes('ENOSPC'));
        if (unexpected.length > 0) throw new Error(`the host logged: ${unexpected.join('; ')}`);

        const report = await verifyAuditChain(db, { enc: keys.auditEnc, mac: keys.auditMac, sign: keys.auditSign });
        if (!report.ok) throw new Error(`audit verify failed: ${report.problem?.kind}: ${report.problem?.message}`);

        const entries = await h.auditLog();
        if (entries.length !== report.records) throw new Error(`show read ${entries.length} records, verify ${report.records}`);
        // Every posting, by the request that made it (or, settled by the operator, by its authorization).
        const postings = new Map<string, { requestId: string | undefined; authorizationId: string | undefined; amountCents: number }>();
        for await (const [, leg] of db.entries<PostingLeg>(POSTING_PREFIX)) {
          postings.set(leg.postingId, { requestId: leg.requestId, authorizationId: leg.authorizationId, amountCents: Math.abs(leg.amountCents) });
        }
        const moneyRecords = entries.filter((e) => MONEY_ACTIONS.has(e.action) && e.outcome === 'ok');
        const operatorSettlements = entries.filter((e) => e.action === 'hold.resolve' && e.outcome === 'ok' && e.detail?.repeated !== true);
        for (const [postingId, posting] of postings) {
          const matching =
            posting.requestId !== undefined
              ? moneyRecords.filter((e) => e.requestId === posting.requestId)
              : operatorSettlements.filter((e) => posting.authorizationId !== undefined && e.detail?.authorizationId === posting.authorizationId);
          if (matching.length !== 1) throw new Error(`posting ${postingId} has ${matching.length} audit records`);
          if (matching[0]!.amountCents !== posting.amountCents) throw new Error(`posting ${postingId} moved ${posting.amountCents}, its record says ${matching[0]!.amountCents}`);
        }
        const postedRequests = new Set([...postings.values()].map((p) => p.requestId));
        const operatorPostedHolds = new Set([...postings.values()].flatMap((p) => (p.requestId === undefined ? [p.authorizationId] : [])));
        for (const record of [...moneyRecords, ...operatorSettlements]) {
          const movedMoney = record.amountCents !== undefined && record.amountCents > 0 && record.detail?.repeated !== true;
          const posted = record.action === 'hold.resolve' ? operatorPostedHolds.has(record.detail?.authorizationId as string) : postedRequests.has(record.requestId);
          if (movedMoney && !posted) throw new Error(`record ${record.seq} (${record.action}) has no posting`);
        }
        // A record for every answer given, refusals included; none for a write that failed (it has no effect).
        const customerRecords = entries.filter((e) => e.requestId !== undefined).length;
        if (customerRecords !== customerAnswers) throw new Error(`${customerAnswers} answers to kiosks, ${customerRecords} records of them`);
        const operatorRecords = entries.filter((e) => e.action === 'hold.resolve').length;
        if (operatorRecords !== operatorAnswers) throw new Error(`${operatorAnswers} operator settlements, ${operatorRecords} records of them`);
        for (const e of entries) if (!e.line.includes(' | ')) throw new Error(`record ${e.seq} has no seeds line`);
      } finally {
        await h.close();
      }
    }),
    {
      numRuns: 5,
      // Besides the random runs, one that surely has the operator reverse a hold the kiosk completed
      // (AUTHORIZATION_SETTLED: completing it again with the same amount would be a repeat, answered ok)
      // and settle one it did not (ok), rare in five random runs: a loaded run once saw none.
      examples: [
        [
          [
            [{ op: 'deposit', who: 0, acct: 0, cents: 100_000, diskFullAtCommit: false }],
            [{ op: 'authorize', who: 0, acct: 0, cents: 2_000 }],
            [{ op: 'complete', hold: 0, fraction: 1 }],
            [{ op: 'operatorResolve', hold: 0, complete: false }],
            [{ op: 'authorize', who: 0, acct: 0, cents: 4_000 }],
            [{ op: 'operatorResolve', hold: 0, complete: false }],
          ],
        ],
      ],
    },
  );
  t.log(Object.fromEntries([...seen].sort()));
  for (const key of ['deposit.open:ok', 'deposit.commit:ok', 'deposit.open:INTERNAL', 'deposit.commit:INTERNAL', 'withdraw.complete:ok', 'transfer:ok', 'withdraw.authorize:INSUFFICIENT_FUNDS', 'signin.password:BAD_CREDENTIALS', 'hold.resolve:ok', 'hold.resolve:AUTHORIZATION_SETTLED']) {
    t.true((seen.get(key) ?? 0) > 0, `no ${key} in any run`);
  }
});
