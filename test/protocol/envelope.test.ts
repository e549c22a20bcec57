import test from 'ava';
import { newRequestId, parseRequestEnvelope, parseResponseEnvelope } from '../../protocol/envelope.js';
import { ProtocolError } from '../../protocol/errors.js';

const good = () => ({ v: 1, id: newRequestId(), ts: Date.now(), type: 'withdraw.authorize', body: {} });

test('request ids are 128-bit random hex', (t) => {
  const ids = new Set(Array.from({ length: 1000 }, newRequestId));
  t.is(ids.size, 1000);
  for (const id of ids) t.regex(id, /^[0-9a-f]{32}$/);
});

test('a well-formed request envelope parses', (t) => {
  const e = good();
  t.deepEqual(parseRequestEnvelope(e), e);
});

const bad: [string, (e: Record<string, unknown>) => unknown, string][] = [
  ['not an object', () => [1, 2], 'BAD_ENVELOPE'],
  ['null', () => null, 'BAD_ENVELOPE'],
  ['missing id', (e) => ({ ...e, id: undefined }), 'BAD_ENVELOPE'],
  ['uppercase id', (e) => ({ ...e, id: 'A'.repeat(32) }), 'BAD_ENVELOPE'],
  ['short id', (e) => ({ ...e, id: 'ab' }), 'BAD_ENVELOPE'],
  ['version 2', (e) => ({ ...e, v: 2 }), 'UNSUPPORTED_VERSION'],
  ['string version', (e) => ({ ...e, v: '1' }), 'UNSUPPORTED_VERSION'],
  ['fractional ts', (e) => ({ ...e, ts: 1.5 }), 'BAD_ENVELOPE'],
  ['string ts', (e) => ({ ...e, ts: '1700000000000' }), 'BAD_ENVELOPE'],
  ['negative ts', (e) => ({ ...e, ts: -1 }), 'BAD_ENVELOPE'],
  ['type with spaces', (e) => ({ ...e, type: 'with draw' }), 'BAD_ENVELOPE'],
  ['overlong type', (e) => ({ ...e, type: 'a'.repeat(65) }), 'BAD_ENVELOPE'],
  ['array body', (e) => ({ ...e, body: [] }), 'BAD_ENVELOPE'],
  ['extra field', (e) => ({ ...e, admin: true }), 'BAD_ENVELOPE'],
];
for (const [name, mutate, code] of bad) {
  test(`a request envelope with ${name} is refused with ${code}`, (t) => {
    const error = t.throws(() => parseRequestEnvelope(mutate(good())), { instanceOf: ProtocolError });
    t.is((error as ProtocolError).code as string, code);
  });
}

test('responses parse as result or as error with a known code', (t) => {
  const id = newRequestId();
  t.deepEqual(parseResponseEnvelope({ v: 1, id, ok: true, result: { a: 1 } }), { v: 1, id, ok: true, result: { a: 1 } });
  const error = parseResponseEnvelope({ v: 1, id, ok: false, error: { code: 'INSUFFICIENT_FUNDS', message: 'no', retryable: false } });
  t.deepEqual(error, { v: 1, id, ok: false, error: { code: 'INSUFFICIENT_FUNDS', message: 'no', retryable: false } });
  t.throws(() => parseResponseEnvelope({ v: 1, id, ok: false, error: { code: 'MADE_UP' } }), { instanceOf: ProtocolError });
  t.throws(() => parseResponseEnvelope({ v: 1, id, ok: 'yes' }), { instanceOf: ProtocolError });
});

test('envelope errors repeat back only what looks like a version or a field name, never arbitrary input', (t) => {
  const pan = '4111111111111111';
  const messageOf = (document: unknown) => (t.throws(() => parseRequestEnvelope(document), { instanceOf: ProtocolError }) as ProtocolError).message;
  t.is(messageOf({ ...good(), v: 2 }), 'protocol version 2 is not supported; this host speaks 1');
  t.is(messageOf({ ...good(), v: [pan, 'secret'] }), 'protocol version of type array is not supported; this host speaks 1');
  t.is(messageOf({ ...good(), v: pan }), 'protocol version of type string is not supported; this host speaks 1');
  t.is(messageOf({ ...good(), admin: true }), 'unknown envelope field "admin"');
  t.is(messageOf({ ...good(), [pan]: true }), '1 unknown envelope field');
});
