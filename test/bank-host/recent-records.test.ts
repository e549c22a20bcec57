import test from 'ava';
import { RecentRecords } from '../../bank-host/server/recent-records.js';

test('remembers what durable changes wrote under its prefixes, forgets deletions, and keeps at most its bound, oldest out first', (t) => {
  const recent = new RecentRecords(['hold:', 'dep:'], 3);
  recent.remember([
    { type: 'put', key: 'hold:a', value: { accountId: 'x' } },
    { type: 'put', key: 'acct:x', value: { balanceCents: 1 } },
    { type: 'put', key: 'dep:b', value: { accountId: 'y' } },
  ]);
  t.deepEqual(recent.recall('hold:a'), { accountId: 'x' });
  t.is(recent.recall('acct:x'), undefined, 'not a remembered prefix');
  t.is(recent.size, 2);
  recent.remember([{ type: 'put', key: 'hold:a', value: { accountId: 'x', status: 'settled' } }]);
  t.deepEqual(recent.recall('hold:a'), { accountId: 'x', status: 'settled' }, 'the last write wins');
  recent.remember([{ type: 'del', key: 'dep:b' }]);
  t.is(recent.recall('dep:b'), undefined);
  recent.remember([1, 2, 3].map((n) => ({ type: 'put' as const, key: `dep:${n}`, value: n })));
  t.is(recent.size, 3);
  t.is(recent.recall('hold:a'), undefined, 'the oldest went first');
  t.is(recent.recall('dep:3'), 3);
});

test('with no prefixes (a store without request scopes) it remembers nothing', (t) => {
  const recent = new RecentRecords([]);
  recent.remember([{ type: 'put', key: 'hold:a', value: 1 }]);
  t.is(recent.size, 0);
});
