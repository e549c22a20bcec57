import test from 'ava';
import { composeReceipt } from '../../../kiosk/core/receipt.js';
import { formatCents } from '../../../protocol/money.js';

test('amounts are printed as dollars and cents from integer cents', (t) => {
  t.is(formatCents(0), '$0.00');
  t.is(formatCents(5), '$0.05');
  t.is(formatCents(6_000), '$60.00');
  t.is(formatCents(123_456_789), '$1,234,567.89');
  t.is(formatCents(-500), '-$5.00');
  t.throws(() => formatCents(1.5));
});

test('a receipt shows the last four digits of the card, never the PAN, and the kiosk, time and authorization', (t) => {
  const lines = composeReceipt({
    kioskId: 'kiosk-lobby-1',
    nowMs: Date.UTC(2026, 10, 22, 15, 4, 5),
    transaction: 'withdrawal',
    amountCents: 6_000,
    dispensedCents: 4_000,
    cardLast4: '4242',
    authorizationId: 'auth_abc',
  });
  const text = lines.join('\n');
  t.true(text.includes('Date: 2026-11-22  Time: 15:04:05 UTC'));
  t.true(text.includes('Kiosk: kiosk-lobby-1'));
  t.true(text.includes('Card: ************4242'));
  t.true(text.includes('WITHDRAWAL $40.00'));
  t.true(text.includes('Requested $60.00; only $40.00 was dispensed and charged'));
  t.true(text.includes('Auth: auth_abc'));
  t.throws(() => composeReceipt({ kioskId: 'k', nowMs: 1, transaction: 'deposit', amountCents: 1, cardLast4: '4111111111111111' }));
});
