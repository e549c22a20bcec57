import test from 'ava';
import { randomBytes, randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuditChain } from '../../bank-host/audit/chain.js';
import { type AuditKeys, type AuditPlaintext, IV_BYTES, decodeStoredRecord, openRecord, toPlaintext } from '../../bank-host/audit/record.js';
import { readAuditPage } from '../../bank-host/audit/show.js';
import {
  type NativeSealerModule,
  SEALER_ENV,
  chooseSealer,
  javascriptSealer,
  knownAnswerProblem,
  nativeSealer,
  nativeSealerPath,
} from '../../bank-host/audit/sealer.js';
import { verifyAuditChain } from '../../bank-host/audit/verify.js';
import { Database } from '../../bank-host/store/database.js';
import { GroupCommitter } from '../../bank-host/store/group-commit.js';

const newKeys = (): AuditKeys => ({ enc: randomBytes(32), mac: randomBytes(32) });

/** The built module itself: these tests are about it, so its absence fails them with how to build it. */
function nativeModule(): NativeSealerModule {
  const file = nativeSealerPath();
  if (file === undefined) throw new Error('the native audit sealer is not built: run `npm run build:native` (needs: apt-get install -y gcc libc6-dev libssl-dev)');
  return createRequire(import.meta.url)(file) as NativeSealerModule;
}

function randomPlaintext(i: number): AuditPlaintext {
  const texts = ['', 'é', '✓ done', '日本語', '\u0000', '"quoted"\n', 'x'.repeat(randomInt(0, 2_000))];
  return toPlaintext(
    {
      action: ['deposit', 'withdraw.authorize', 'balance', 'signin.card'][i % 4]!,
      outcome: i % 3 === 0 ? 'failed' : 'ok',
      ...(i % 2 === 0 && { customerId: `cus_${randomBytes(8).toString('hex')}` }),
      deviceId: `kiosk-${i}`,
      ...(i % 5 !== 0 && { amountCents: randomInt(0, 1_000_000) }),
      requestId: randomBytes(16).toString('hex'),
      ...(i % 3 === 0 && { reason: 'INSUFFICIENT_FUNDS' }),
      detail: { note: texts[i % texts.length]!, n: i, flag: i % 2 === 0 },
    },
    1_750_000_000_000 + i,
  );
}

test('the native sealer is built, passes its known-answer batch and is the one the host chooses', (t) => {
  const module = nativeModule();
  t.is(knownAnswerProblem(module), undefined);
  const choice = chooseSealer(newKeys(), {});
  t.is(choice.sealer.kind, 'native', choice.fallbackReason);
  t.is(choice.fallbackReason, undefined);
});

test('native and JavaScript sealers write the same bytes: random batches, multi-byte text, sequence numbers across 2^32 and up to 2^53 - 1', (t) => {
  const module = nativeModule();
  for (const [firstSeq, count] of [
    [1, 1],
    [1, 64],
    [2 ** 32 - 5, 10],
    [randomInt(1, 2 ** 47), 200],
    [Number.MAX_SAFE_INTEGER - 2, 3],
  ] as const) {
    const keys = { enc: randomBytes(32), mac: randomBytes(randomInt(1, 65)) };
    const plaintexts = Array.from({ length: count }, (_, i) => randomPlaintext(i));
    const ivs = randomBytes(count * IV_BYTES);
    const previous = randomBytes(32);
    const expected = javascriptSealer(keys).sealBatch(previous, firstSeq, plaintexts, ivs);
    const actual = nativeSealer(keys, module).sealBatch(previous, firstSeq, plaintexts, ivs);
    t.is(actual.length, count);
    t.true(actual.every((value, i) => value.equals(expected[i]!)), `batch of ${count} from ${firstSeq}`);
    // And they open: the last record decrypts to its plaintext under its own sequence number.
    const last = decodeStoredRecord(actual[count - 1]);
    t.is(last?.seq, firstSeq + count - 1);
    t.deepEqual(openRecord(keys.enc, firstSeq + count - 1, last!.sealed), plaintexts[count - 1]);
  }
  t.deepEqual(nativeSealer(newKeys(), module).sealBatch(randomBytes(32), 1, [], Buffer.alloc(0)), []);
});

test('the native sealer refuses bad arguments with a clear error and returns nothing', (t) => {
  const m = nativeModule();
  const keys = newKeys();
  const tag = randomBytes(32);
  const ok = { enc: keys.enc, mac: keys.mac, tag, seq: 1, ivs: randomBytes(24), texts: ['{"a":1}', '{"b":2}'], offsets: new Uint32Array(3) };
  const call = (o: Partial<typeof ok> & Record<string, unknown>) => () =>
    m.sealBatch(...([o.enc, o.mac, o.tag, o.seq, o.ivs, o.texts, o.offsets] as Parameters<NativeSealerModule['sealBatch']>));
  t.notThrows(call(ok));
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['short encryption key', { enc: randomBytes(16) }, /encryption key must be a 32-byte Buffer/],
    ['key as a string', { enc: 'k'.repeat(32) }, /encryption key must be a 32-byte Buffer/],
    ['MAC key over 64 bytes', { mac: randomBytes(65) }, /MAC key must be a Buffer of at most 64 bytes/],
    ['short previous tag', { tag: randomBytes(31) }, /previous chain tag must be a 32-byte Buffer/],
    ['sequence number 0', { seq: 0 }, /first sequence number must be an integer/],
    ['fractional sequence number', { seq: 1.5 }, /first sequence number must be an integer/],
    ['sequence number as a string', { seq: '1' }, /first sequence number must be an integer/],
    ['batch past 2^53 - 1', { seq: Number.MAX_SAFE_INTEGER }, /runs past the last sequence number/],
    ['IVs one byte short', { ivs: randomBytes(23) }, /12 bytes per record/],
    ['a plaintext that is not a string', { texts: ['{"a":1}', 2] }, /array of strings/],
    ['plaintexts not an array', { texts: '{"a":1}' }, /array of strings/],
    ['an empty plaintext', { texts: ['{"a":1}', ''] }, /1 byte to 1 MiB/],
    ['offsets of the wrong length', { offsets: new Uint32Array(2) }, /Uint32Array of one more element/],
    ['offsets of the wrong type', { offsets: new Float64Array(3) }, /Uint32Array of one more element/],
  ];
  for (const [name, change, message] of cases) t.throws(call({ ...ok, ...change }), { message }, name);
  t.throws(() => (m.sealBatch as unknown as (...a: unknown[]) => unknown)(keys.enc), { message: /takes 7 arguments/ }, 'too few arguments');
});

test('a native sealer that disagrees with the reference, or fails, is refused at load', (t) => {
  const real = nativeModule();
  const flipped: NativeSealerModule = {
    sealBatch(...args) {
      const out = real.sealBatch(...args);
      out[60] = out[60]! ^ 1;
      return out;
    },
  };
  t.regex(knownAnswerProblem(flipped) ?? '', /disagrees with the JavaScript reference/);
  const throwing: NativeSealerModule = {
    sealBatch() {
      throw new Error('boom');
    },
  };
  t.regex(knownAnswerProblem(throwing) ?? '', /failed its known-answer batch: boom/);
});

test(`${SEALER_ENV} picks the JavaScript sealer, insists on the native one, and refuses anything else`, (t) => {
  const keys = newKeys();
  const js = chooseSealer(keys, { [SEALER_ENV]: 'javascript' });
  t.is(js.sealer.kind, 'javascript');
  t.regex(js.fallbackReason ?? '', /=javascript/);
  t.is(chooseSealer(keys, { [SEALER_ENV]: 'native' }).sealer.kind, 'native');
  t.throws(() => chooseSealer(keys, { [SEALER_ENV]: 'fast' }), { message: /must be "native" or "javascript", not "fast"/ });
});

test('a log written partly by each sealer verifies, and every record reads back', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-sealer-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const keys = { ...newKeys(), sign: randomBytes(32) };
  const db = await Database.open(path.join(dir, 'db'));
  t.teardown(() => db.close());
  let n = 0;
  for (const sealer of [javascriptSealer(keys), nativeSealer(keys, nativeModule()), javascriptSealer(keys), nativeSealer(keys, nativeModule())]) {
    // Each phase reopens the chain at the durable head, as a restarted host does.
    const committer = new GroupCommitter(db, await AuditChain.open(db, keys, { sealer }), () => 1_750_000_000_000 + n);
    await Promise.all(
      Array.from({ length: 25 }, () => {
        n++;
        return committer.commit({ ops: [], events: [{ action: 'deposit', outcome: 'ok', customerId: 'cus_1', amountCents: n, requestId: `rq-${n}` }] });
      }),
    );
    await committer.close();
  }
  const report = await verifyAuditChain(db, keys);
  t.true(report.ok, report.problem?.message);
  t.is(report.records, 100);
  const page = await readAuditPage(db, keys.enc, { customerId: 'cus_1', order: 'asc', limit: 200, scanLimit: 1_000 });
  t.is(page.entries.length, 100);
  t.deepEqual(page.entries.map((e) => e.amountCents).sort((a, b) => a! - b!), Array.from({ length: 100 }, (_, i) => i + 1));
});
