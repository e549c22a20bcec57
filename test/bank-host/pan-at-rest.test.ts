// No full PAN at rest (DESIGN §11, docs/ledger.md "Cards and PANs at rest"): after a card is issued, signed in
// with (twice, the second a replay on a new connection) and withdrawn with, no file of the host's data folder
// holds the PAN, read raw (LevelDB compresses with snappy, so every key and value is also read back through
// LevelDB, and the audit log decrypted). A store written in the old layout (card records under the PAN,
// PANs in customer records, daily totals, holds and stored sessions) is migrated when the host opens it,
// keeps working (PIN, daily limit, replayed sign-in), and afterwards holds no PAN either, even when the
// migration was cut off part way and finished by the next open.
import test from 'ava';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { newRequestId } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import { silentLogger } from '../../protocol/log.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import { addCustomer, issueCard } from '../../bank-host/customers/admin.js';
import { cardIdOf, openSealedPan } from '../../bank-host/customers/card-protection.js';
import type { CardRecord, CustomerRecord } from '../../bank-host/customers/records.js';
import { migrateStore, STORE_FORMAT, STORE_FORMAT_KEY } from '../../bank-host/customers/store-format.js';
import { loadHostKeys } from '../../bank-host/keys.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import type { HoldRecord } from '../../bank-host/ledger/records.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import type { AuditEvent } from '../../bank-host/audit/event.js';
import { Database, type BatchOp } from '../../bank-host/store/database.js';
import { GroupCommitter } from '../../bank-host/store/group-commit.js';
import { openHostState } from '../../bank-host/host.js';
import { clientDeposit, startTestHost, type TestHost } from '../helpers/host.js';
import { testKioskStatus } from '../helpers/kiosk-cash.js';

const scryptCost = { log2N: 10, r: 8, p: 1 };
const operations = createBankingOperations({ scryptCost });
const PASSWORD = 'correct horse battery';
const DAY = new Date().toISOString().slice(0, 10);
/** The hosts' clock: real time, but never past the day the legacy records are written for, so a run that
 *  crosses midnight still finds the card's total of "today" (it once failed at 00:00 UTC). */
const hostNow = (): number => Math.min(Date.now(), Date.parse(`${DAY}T23:59:59.999Z`));

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Where `needle` shows in the data folder: raw file bytes, every LevelDB key and value read back, and the
 *  audit log decrypted. `keysDir` gives the audit key. The database must be closed. */
async function whereFound(dataDir: string, keysDir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const bytes = Buffer.from(needle, 'utf8');
  for (const file of await filesUnder(dataDir)) if ((await readFile(file)).includes(bytes)) found.push(`file ${path.relative(dataDir, file)}`);
  const db = await Database.open(path.join(dataDir, 'db'));
  try {
    for await (const [key, value] of db.level.iterator<string, Buffer>({ valueEncoding: 'buffer' })) {
      if (key.includes(needle)) found.push(`key ${key}`);
      if (value.includes(bytes)) found.push(`value of ${key}`);
    }
    const keys = await loadHostKeys(keysDir);
    const page = await readAuditPage(db, keys.auditEnc, { order: 'asc', limit: 10_000, scanLimit: 10_000 });
    if (JSON.stringify(page.entries).includes(needle)) found.push('a decrypted audit record');
    if (page.entries.length === 0) found.push('(the audit log was empty: nothing was checked there)');
  } finally {
    await db.close();
  }
  return found;
}

interface Carded {
  readonly pan: string;
  readonly pin: string;
  readonly accountId: string;
  readonly kShared: Buffer;
  readonly deviceId: string;
}

/** A customer with a funded account and a card, and a kiosk. */
async function customerWithCard(h: TestHost, username: string, deviceId: string): Promise<Carded> {
  const { services } = h.host.state;
  const added = await addCustomer(services, username, PASSWORD, { scryptCost });
  const card = await issueCard(services, username);
  const kShared = await h.addDevice(deviceId);
  const kiosk = h.client(deviceId, kShared);
  kiosk.start();
  await kiosk.waitConnected(5_000);
  await kiosk.request('kiosk.status', testKioskStatus());
  await kiosk.request('signin.password', { username, password: PASSWORD });
  await clientDeposit(kiosk, added.accountId, 200_000);
  kiosk.close();
  return { pan: card.pan, pin: card.pin, accountId: added.accountId, kShared, deviceId };
}

/** A card sign-in on a new connection; `replay` resends an earlier one (the same id and body). */
function cardSignIn(h: TestHost, c: Carded, replay?: { requestId: string; pinBlock: string }) {
  const kiosk = h.client(c.deviceId, c.kShared);
  kiosk.start();
  const requestId = replay?.requestId ?? newRequestId();
  const pinBlock = replay?.pinBlock ?? encodePinBlockFormat4(c.pin, c.pan, h.pinKey(c.deviceId)).toString('hex');
  return {
    kiosk,
    requestId,
    pinBlock,
    session: kiosk.waitConnected(5_000).then(() => kiosk.request('signin.card', { pan: c.pan, pinBlock }, { requestId })),
  };
}

test('after card issue, card sign-in and withdrawals no file of the data folder holds the PAN', async (t) => {
  const h = await startTestHost({ operations });
  t.teardown(() => h.close());
  const c = await customerWithCard(h, 'pan-fresh', 'kiosk-pan-fresh');
  const first = cardSignIn(h, c);
  await first.session;
  for (const amountCents of [2_000, 6_000]) {
    const auth = await first.kiosk.request('withdraw.authorize', { accountId: c.accountId, amountCents });
    await first.kiosk.request('withdraw.complete', { authorizationId: auth.authorizationId, dispensedCents: amountCents });
  }
  // The sign-in replayed on a new connection (its answer lost, say): the stored session binds again.
  first.kiosk.close();
  const replay = cardSignIn(h, c, first);
  await replay.session;
  const auth = await replay.kiosk.request('withdraw.authorize', { accountId: c.accountId, amountCents: 4_000 });
  await replay.kiosk.request('withdraw.reverse', { authorizationId: auth.authorizationId });
  const card = await h.host.state.services.db.get<CardRecord>(`card:${cardIdOf(h.host.state.services.keys.master, c.pan)}`);
  t.is(openSealedPan(h.host.state.services.keys.master, card!.cardId, card!.panSealed), c.pan, 'the PAN is kept, sealed');
  t.throws(() => openSealedPan(h.host.state.services.keys.master, cardIdOf(h.host.state.services.keys.master, '9990010000000017'), card!.panSealed), undefined, 'bound to its card');
  await h.stop();

  t.deepEqual(await whereFound(h.dataDir, h.keysDir, c.pan), []);
  // The scan sees what is there: the customer's username is in these files.
  t.not((await whereFound(h.dataDir, h.keysDir, 'pan-fresh')).length, 0);
});

/** Rewrites a format-2 store's records of `c` in the layout the host wrote before (format 1). */
async function writeLegacyLayout(h: TestHost, c: Carded, signIn: { requestId: string }, usedTodayCents: number): Promise<void> {
  const { db, keys, committer } = h.host.state.services;
  const cardId = cardIdOf(keys.master, c.pan);
  const card = (await db.get<CardRecord>(`card:${cardId}`))!;
  const { cardId: _id, panLast4: _last4, panSealed: _sealed, ...rest } = card;
  const customer = (await db.get<CustomerRecord>(`cust:${card.customerId}`))!;
  const { cards: _cards, ...customerRest } = customer;
  const holdKeys: string[] = [];
  for await (const [key, hold] of db.entries<HoldRecord>('hold:')) if (hold.dailyKeys?.some((k) => k.includes(cardId))) holdKeys.push(key);
  const ops: BatchOp[] = [
    { type: 'del' as const, key: `card:${cardId}` },
    { type: 'put' as const, key: `card:${c.pan}`, value: { pan: c.pan, ...rest } },
    { type: 'put' as const, key: `cust:${card.customerId}`, value: { ...customerRest, cardPans: [c.pan] } },
    { type: 'del' as const, key: `wdday:card-${cardId}:${DAY}` },
    { type: 'put' as const, key: `wdday:card-${c.pan}:${DAY}`, value: { usedCents: usedTodayCents } },
    { type: 'del' as const, key: STORE_FORMAT_KEY },
  ];
  for (const key of holdKeys) {
    const hold = (await db.get<HoldRecord>(key))!;
    ops.push({ type: 'put', key, value: { ...hold, dailyKeys: hold.dailyKeys!.map((k) => k.replace(cardId, c.pan)) } });
  }
  const idemKey = `idem:${c.deviceId}:${signIn.requestId}`;
  const idem = (await db.get<{ session: Record<string, unknown> }>(idemKey))!;
  const { cardId: _sid, cardLast4: _slast4, ...session } = idem.session;
  ops.push({ type: 'put', key: idemKey, value: { ...idem, session: { ...session, cardPan: c.pan } } });
  await committer.commit({ ops });
  expectSetup(holdKeys.length > 0, 'a hold charged to the card');
}

function expectSetup(condition: boolean, what: string): void {
  if (!condition) throw new Error(`setup: expected ${what}`);
}

async function legacyStore(t: { teardown: (fn: () => Promise<void>) => void }) {
  let h = await startTestHost({ operations, config: { cardDailyWithdrawalLimitCents: 100_000 }, now: hostNow });
  t.teardown(() => h.close());
  const c = await customerWithCard(h, 'pan-legacy', 'kiosk-pan-legacy');
  const signIn = cardSignIn(h, c);
  await signIn.session;
  const auth = await signIn.kiosk.request('withdraw.authorize', { accountId: c.accountId, amountCents: 10_000 });
  await signIn.kiosk.request('withdraw.complete', { authorizationId: auth.authorizationId, dispensedCents: 10_000 });
  signIn.kiosk.close();
  // 90,000 of the card's 100,000 used today, as the old layout counted it.
  await writeLegacyLayout(h, c, signIn, 90_000);
  await h.stop();
  const legacyFiles = await whereFound(h.dataDir, h.keysDir, c.pan);
  expectSetup(legacyFiles.some((where) => where.startsWith('key card:')), 'the legacy store files its card under the PAN');
  return {
    c,
    signIn,
    folder: path.dirname(h.dataDir),
    reopen: async () => {
      h = await startTestHost({ operations, config: { cardDailyWithdrawalLimitCents: 100_000 }, dir: path.dirname(h.dataDir), now: hostNow });
      return h;
    },
  };
}

async function checkMigrated(t: import('ava').ExecutionContext, h: TestHost, legacy: Awaited<ReturnType<typeof legacyStore>>): Promise<void> {
  const { c, signIn } = legacy;
  const { db, keys } = h.host.state.services;
  t.like(await db.get(STORE_FORMAT_KEY), { format: STORE_FORMAT });
  const cardId = cardIdOf(keys.master, c.pan);
  t.like(await db.get(`card:${cardId}`), { cardId, panLast4: c.pan.slice(-4) });
  t.like(await db.get(`wdday:card-${cardId}:${DAY}`), { usedCents: 90_000 });
  const log = await readAuditPage(db, keys.auditEnc, { order: 'asc', limit: 10_000, scanLimit: 10_000 });
  t.like(log.entries.find((entry) => entry.action === 'store.migrate'), { outcome: 'ok', actor: 'host', detail: { format: STORE_FORMAT, dailyTotals: 1, idempotencyRecords: 1 } });
  // The replayed sign-in binds its migrated session: the card's daily total, carried over, still counts.
  const replay = cardSignIn(h, c, signIn);
  t.like(await replay.session, { cardLast4: c.pan.slice(-4) });
  const refused = await replay.kiosk.request('withdraw.authorize', { accountId: c.accountId, amountCents: 20_000 }).catch((e: unknown) => e);
  t.is((refused as ProtocolError).code, 'DAILY_LIMIT_EXCEEDED');
  replay.kiosk.close();
  // A fresh sign-in with the card's PIN works, and a withdrawal within what is left is paid.
  const fresh = cardSignIn(h, c);
  await fresh.session;
  const auth = await fresh.kiosk.request('withdraw.authorize', { accountId: c.accountId, amountCents: 10_000 });
  await fresh.kiosk.request('withdraw.complete', { authorizationId: auth.authorizationId, dispensedCents: 10_000 });
  fresh.kiosk.close();
  const report = await checkLedger(db);
  t.true(report.ok, JSON.stringify(report.problems));
  await h.stop();
  t.deepEqual(await whereFound(h.dataDir, h.keysDir, c.pan), []);
}

test('a store in the old layout is migrated when the host opens it, keeps working, and then holds no PAN', async (t) => {
  const legacy = await legacyStore(t);
  const h = await legacy.reopen();
  await checkMigrated(t, h, legacy);
});

test('a migration cut off part way leaves a store that opens and finishes it', async (t) => {
  const legacy = await legacyStore(t);
  const paths = { dataDir: path.join(legacy.folder, 'data'), keysDir: path.join(legacy.folder, 'keys') };
  const keys = await loadHostKeys(paths.keysDir);
  const db = await Database.open(path.join(paths.dataDir, 'db'));
  const committer = new GroupCommitter<AuditEvent>(db);
  let batches = 0;
  const cut = await migrateStore(db, committer, keys.master, hostNow(), {
    batchRecords: 1,
    afterBatch: () => {
      if (++batches === 2) throw new Error('power lost');
    },
  }).catch((error: unknown) => error);
  t.is((cut as Error).message, 'power lost');
  t.is(await db.get(STORE_FORMAT_KEY), undefined, 'the format marker is written last');
  await committer.close();
  await db.close();
  // Opened by the host's own path (the CLI on a stopped host does the same): the migration finishes.
  const state = await openHostState(paths, silentLogger);
  await state.close();
  const h = await legacy.reopen();
  await checkMigrated(t, h, legacy);
  await rm(legacy.folder, { recursive: true, force: true });
});
