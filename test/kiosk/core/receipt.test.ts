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

test("a receipt heads with the bank's name, prints the kiosk's local time with its zone, and the balance and available amount after", (t) => {
  const lines = composeReceipt({
    kioskId: 'kiosk-lobby-1',
    bankName: 'Northbank',
    nowMs: Date.UTC(2026, 11, 5, 14, 30, 0),
    timeZone: 'America/Toronto',
    transaction: 'withdrawal',
    amountCents: 6_000,
    cardLast4: '4242',
    balanceAfterCents: 44_000,
    availableAfterCents: 43_500,
  });
  t.is(lines[0], 'Northbank');
  t.true(lines.includes('Date: 2026-12-05  Time: 09:30:00 EST'), lines.join('\n'));
  t.true(lines.includes('Balance: $440.00'));
  t.true(lines.includes('Available: $435.00'));
  const summer = composeReceipt({ kioskId: 'k', nowMs: Date.UTC(2026, 6, 1, 12, 0, 0), timeZone: 'America/Toronto', transaction: 'deposit', amountCents: 100 });
  t.true(summer.includes('Date: 2026-07-01  Time: 08:00:00 EDT'), summer.join('\n'));
});

test('a balance inquiry prints each account shown, masked, with its balance and available amount', (t) => {
  const text = composeReceipt({
    kioskId: 'k',
    bankName: 'Northbank',
    nowMs: 0,
    transaction: 'balance',
    amountCents: 0,
    cardLast4: '4242',
    accounts: [{ accountId: 'acc_0123456789abcdef', balanceCents: 12_345, availableCents: 10_000 }],
  }).join('\n');
  t.regex(text, /BALANCE INQUIRY\nAccount \.\.\.cdef\n  Balance: \$123\.45\n  Available: \$100\.00/);
  t.false(text.includes('acc_0123456789abcdef'));
});
