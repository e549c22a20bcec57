import test from 'ava';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ProtocolError } from '../../protocol/errors.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import type { Io } from '../../bank-host/cli/io.js';
import { main } from '../../bank-host/cli/main.js';
import { decodeStoredRecord, readStoredRecords, storedRecordPut } from '../../bank-host/audit/record.js';
import { PROGRESS_INTERVAL_RECORDS } from '../../bank-host/audit/verify.js';
import { Database } from '../../bank-host/store/database.js';
import { clientDeposit, startTestHost } from '../helpers/host.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

const CHEAP_SCRYPT = { log2N: 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery';

async function cli(argv: string[], secret = ''): Promise<Run> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env: {}, readSecret: async () => secret, scryptCost: CHEAP_SCRYPT };
  const code = await main(argv, io);
  return { code, out, err };
}

let dir: string;
test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bank-audit-cli-'));
});
test.after.always(async () => rm(dir, { recursive: true, force: true }));

/** Every byte LevelDB holds, as text, to search for things that must never be stored. */
async function storeBytes(dataDir: string): Promise<string> {
  const folder = path.join(dataDir, 'db');
  const files = await readdir(folder);
  const contents = await Promise.all(files.map((f) => readFile(path.join(folder, f)).catch(() => Buffer.alloc(0))));
  return Buffer.concat(contents).toString('latin1');
}

test('on a stopped host: operator actions are recorded, verify passes, a checkpoint is signed, show filters, tampering fails with exit 1', async (t) => {
  const data = path.join(dir, 'stopped-data');
  const keys = path.join(dir, 'stopped-keys');
  const where = ['--data', data, '--keys', keys];
  t.is((await cli(['init', ...where])).code, 0);
  t.is((await cli(['device', 'add', 'kiosk-a1', '--key-out', path.join(dir, 'a1.key'), ...where])).code, 0);
  const added = await cli(['customer', 'add', 'alice', ...where], PASSWORD);
  t.is(added.code, 0, added.err);
  const customerId = /\((cus_[0-9a-f]+)\)/.exec(added.out)![1]!;
  t.is((await cli(['card', 'block', '4111111111111111', ...where])).code, 1, 'an unknown card is refused, and recorded');

  const verified = await cli(['audit', 'verify', ...where]);
  t.is(verified.code, 0, verified.out + verified.err);
  t.regex(verified.out, /audit log OK: 3 records .* head at record 3/);

  const checkpointFile = path.join(dir, 'stopped.checkpoint.json');
  const signed = await cli(['audit', 'checkpoint', '--out', checkpointFile, ...where]);
  t.is(signed.code, 0, signed.err);
  t.regex(signed.out, /signed checkpoint at record 3/);
  const checkpoint = JSON.parse(await readFile(checkpointFile, 'utf8'));
  t.is(checkpoint.seq, 3);
  t.is((await cli(['audit', 'checkpoint', '--out', checkpointFile, ...where])).code, 1, 'an existing checkpoint is never overwritten');

  const shown = await cli(['audit', 'show', ...where]);
  t.is(shown.code, 0, shown.err);
  const lines = shown.out.trim().split('\n');
  t.is(lines.length, 3);
  t.regex(lines[0]!, /^device:kiosk-a1 \| operator: device\.add \| \d{4}-\d\d-\d\dT/);
  t.regex(lines[1]!, new RegExp(`^${customerId} \\| operator: customer\\.add \\| `));
  t.regex(lines[2]!, /^operator \| operator: card\.block failed - card unknown \| /);
  const mine = await cli(['audit', 'show', '--customer', customerId, '--json', ...where]);
  t.deepEqual(JSON.parse(mine.out).entries.map((e: { action: string }) => e.action), ['customer.add']);
  const failed = await cli(['audit', 'show', '--outcome', 'failed', '--since', '2000-01-01', ...where]);
  t.regex(failed.out.trim(), /^operator \| operator: card\.block failed/);
  const before = await cli(['audit', 'show', '--until', '2000-01-01T00:00:00Z', ...where]);
  t.is(before.out.trim(), 'no matching audit records');
  const window = await cli(['audit', 'show', '--since', String(Date.now() - 600_000), '--until', new Date(Date.now() + 600_000).toISOString(), ...where]);
  t.is(window.out.trim().split('\n').length, 3);
  const badTime = await cli(['audit', 'show', '--since', 'yesterday', ...where]);
  t.is(badTime.code, 2);
  t.regex(badTime.err, /--since must be an ISO 8601 time/);
  t.false((await storeBytes(data)).includes('4111111111111111'), 'the PAN of a refused operator action is not stored anywhere');

  // An older copy of the store, then more activity and a checkpoint, then the copy put back.
  const older = path.join(dir, 'stopped-older');
  await cp(data, older, { recursive: true });
  t.is((await cli(['account', 'open', 'alice', '--kind', 'savings', ...where])).code, 0);
  const laterCheckpoint = path.join(dir, 'stopped.later.json');
  t.is((await cli(['audit', 'checkpoint', '--out', laterCheckpoint, ...where])).code, 0);
  t.is((await cli(['audit', 'verify', '--checkpoint', checkpointFile, ...where])).code, 0, 'an older checkpoint is still contained');
  await rm(data, { recursive: true });
  await cp(older, data, { recursive: true });
  const rolledBack = await cli(['audit', 'verify', '--checkpoint', laterCheckpoint, ...where]);
  t.is(rolledBack.code, 1);
  t.regex(rolledBack.out, /FAILS VERIFICATION: rolled-back at record 4: .*older copy of the store was restored/);

  // One flipped ciphertext byte.
  const db = await Database.open(path.join(data, 'db'));
  try {
    const stored = decodeStoredRecord((await readStoredRecords(db, [2]))[0])!;
    stored.sealed[20]! ^= 0x04;
    await db.writeDurably([storedRecordPut(2, stored.sealed, stored.tag)]);
  } finally {
    await db.close();
  }
  const tampered = await cli(['audit', 'verify', ...where]);
  t.is(tampered.code, 1);
  t.regex(tampered.out, /modified at record 2: record 2 was modified/);
  const refused = await cli(['audit', 'checkpoint', '--out', path.join(dir, 'never.json'), ...where]);
  t.is(refused.code, 1);
  t.regex(refused.err, /does not verify, so no checkpoint was signed/);
  const bad = await cli(['audit', 'verify', '--checkpoint', path.join(dir, 'missing.json'), ...where]);
  t.is(bad.code, 2);
  t.regex(bad.err, /cannot read the checkpoint/);
});

test.serial('while serving: customer, device and refused actions are recorded; audit commands go through the admin socket; customers see only their own activity', async (t) => {
  const h = await startTestHost();
  try {
    const where = ['--admin-socket', h.adminSocket];
    const alice = await h.connectedClient('kiosk-live-1');
    const bob = await h.connectedClient('kiosk-live-2');
    const aliceInfo = await alice.request('register', { username: 'alice', password: PASSWORD });
    const bobInfo = await bob.request('register', { username: 'bobby', password: PASSWORD });
    const aliceAccount = aliceInfo.accounts[0]!.accountId;
    await clientDeposit(alice, aliceAccount, 5_000);
    const refused = await alice.request('withdraw.authorize', { accountId: aliceAccount, amountCents: 10_000 }).catch((e: unknown) => e);
    t.true(refused instanceof ProtocolError && refused.code === 'INSUFFICIENT_FUNDS');
    await clientDeposit(bob, bobInfo.accounts[0]!.accountId, 2_000);
    const foreign = await bob.request('balance', { accountId: aliceAccount }).catch((e: unknown) => e);
    t.true(foreign instanceof ProtocolError);

    // A card with a PIN, three wrong PINs: failures, then the card blocked.
    const issued = await cli(['card', 'issue', 'alice', ...where]);
    t.is(issued.code, 0, issued.err);
    const [, pan, pin] = /issued card (\d+) .*\nPIN (\d+)/.exec(issued.out)!;
    const kiosk3Key = await h.addDevice('kiosk-live-3');
    const kiosk3 = h.client('kiosk-live-3', kiosk3Key);
    kiosk3.start();
    await kiosk3.waitConnected(3_000);
    const wrongPin = pin === '0000' ? '1111' : '0000';
    for (let i = 0; i < 3; i++) {
      const answer = await kiosk3.request('signin.card', { pan: pan!, pinBlock: encodePinBlockFormat4(wrongPin, pan!, h.pinKey('kiosk-live-3')).toString('hex') }).catch((e: unknown) => e);
      t.true(answer instanceof ProtocolError);
    }
    // A kiosk with the wrong key is refused at the handshake.
    const impostor = h.client('kiosk-live-1', Buffer.alloc(32, 7));
    impostor.start();
    await new Promise((r) => setTimeout(r, 300));
    impostor.close();
    t.is((await cli(['device', 'revoke', 'kiosk-live-3', ...where])).code, 0);

    const verified = await cli(['audit', 'verify', ...where]);
    t.is(verified.code, 0, verified.out + verified.err);
    const all = await cli(['audit', 'show', '--json', ...where]);
    t.is(all.code, 0, all.err);
    const entries = JSON.parse(all.out).entries as { action: string; outcome: string; customerId?: string; deviceId?: string; line: string; reason?: string }[];
    const actions = entries.map((e) => `${e.action}:${e.outcome}${e.reason ? `:${e.reason}` : ''}`);
    for (const expected of ['device.add:ok', 'kiosk.status:ok', 'register:ok', 'deposit.open:ok', 'deposit.commit:ok', 'withdraw.authorize:failed:INSUFFICIENT_FUNDS', 'balance:failed:UNKNOWN_ACCOUNT', 'card.issue:ok', 'signin.card:failed:WRONG_PIN', 'signin.card:failed:CARD_BLOCKED', 'handshake:refused:wrong-key', 'device.revoke:ok']) {
      t.true(actions.includes(expected), `no ${expected} record in ${actions.join(', ')}`);
    }
    t.true(entries.some((e) => e.line === `${aliceInfo.customerId} | withdraw $100.00 failed - insufficient funds | ${e.line.split(' | ')[2]}`));
    const text = JSON.stringify(entries);
    t.false(text.includes(pan!), 'no full PAN in any record');
    t.false(text.includes(PASSWORD), 'no password in any record');
    t.false(/pinBlock|"pin"/.test(text), 'no PIN or PIN block in any record');

    const onlyBob = await cli(['audit', 'show', '--customer', bobInfo.customerId, ...where]);
    t.true(onlyBob.out.trim().split('\n').every((line) => line.startsWith(`${bobInfo.customerId} | `)), onlyBob.out);
    // The impostor proved nothing: its refusal is not filed under kiosk-live-1, which it only claimed.
    const underDevice = await cli(['audit', 'show', '--action', 'handshake', '--device', 'kiosk-live-1', ...where]);
    t.regex(underDevice.out, /no matching audit records/);
    const handshakes = JSON.parse((await cli(['audit', 'show', '--action', 'handshake', '--json', ...where])).out).entries as { line: string; reason?: string; deviceId?: string; detail?: { claimed?: string } }[];
    t.true(handshakes.some((e) => e.reason === 'wrong-key' && e.deviceId === undefined && e.detail?.claimed === 'kiosk-live-1' && / \| handshake refused - wrong-key \| /.test(e.line)), JSON.stringify(handshakes));

    // The customer's own activity, over the channel: newest first, only theirs, paged.
    const activity = await alice.request('activity', { limit: 3 });
    t.is(activity.entries.length, 3);
    t.truthy(activity.nextCursor);
    t.true(activity.entries[0]!.seq > activity.entries[2]!.seq);
    const rest = await alice.request('activity', { cursor: activity.nextCursor! });
    const aliceSeqs = [...activity.entries, ...rest.entries].map((e) => e.seq);
    const expectedSeqs = entries.flatMap((e, i) => (e.customerId === aliceInfo.customerId ? [i + 1] : []));
    t.deepEqual([...aliceSeqs].sort((a, b) => a - b), expectedSeqs.filter((s) => s <= Math.max(...aliceSeqs)));
    t.true([...activity.entries, ...rest.entries].every((e) => e.line.startsWith(`${aliceInfo.customerId} | `)));
    // The credit is on the commit's record.
    const bobView = await bob.request('activity', { actions: ['deposit.commit'] });
    t.deepEqual(bobView.entries.map((e) => e.amountCents), [2_000]);

    const checkpointFile = path.join(dir, 'live.checkpoint.json');
    t.is((await cli(['audit', 'checkpoint', '--out', checkpointFile, ...where])).code, 0);
    await alice.request('balance', { accountId: aliceAccount });
    const later = await cli(['audit', 'verify', '--checkpoint', checkpointFile, ...where]);
    t.is(later.code, 0, later.out);
    t.regex(later.out, /checkpoint of .* matches/);
  } finally {
    await h.close();
  }
});

test.serial('audit verify reports progress on a large log, through the admin socket and on a stopped host', async (t) => {
  const h = await startTestHost();
  try {
    // Records straight through the committer, in large batches, as many kiosks' actions would land.
    const recordCount = PROGRESS_INTERVAL_RECORDS + 2_000;
    const batchRecords = 5_000;
    for (let done = 0; done < recordCount; done += batchRecords) {
      const events = Array.from({ length: Math.min(batchRecords, recordCount - done) }, (_, i) => ({
        action: 'deposit.commit',
        outcome: 'ok' as const,
        customerId: `cus_${(done + i) % 7}`,
        deviceId: 'kiosk-bulk',
        amountCents: 100,
      }));
      await h.host.state.services.committer.commit({ ops: [], events });
    }
    const served = await cli(['audit', 'verify', '--admin-socket', h.adminSocket]);
    t.is(served.code, 0, served.out + served.err);
    t.regex(served.err, new RegExp(`audit verify: ${PROGRESS_INTERVAL_RECORDS.toLocaleString('en-US')} of ${recordCount.toLocaleString('en-US')} records`));
    t.regex(served.out, new RegExp(`audit log OK: ${recordCount.toLocaleString('en-US')} records`));

    await h.stop();
    const stopped = await cli(['audit', 'verify', '--data', h.dataDir, '--keys', h.keysDir]);
    t.is(stopped.code, 0, stopped.out + stopped.err);
    t.regex(stopped.err, new RegExp(`audit verify: ${PROGRESS_INTERVAL_RECORDS.toLocaleString('en-US')} of ${recordCount.toLocaleString('en-US')} records`));
  } finally {
    await h.close();
  }
});
