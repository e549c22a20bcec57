// The withdrawal limits checked before anything is sent: the kiosk core's check and the amount screen's
// give the same answer to every amount, and each answer names its limit.
import test from 'ava';
import { withdrawalLimitNotice } from '../../../kiosk/core/withdrawal-limits.js';
import type { KioskSnapshot } from '../../../kiosk/core/ui-contract.js';
import { withdrawableTodayCents, withdrawalRefusal } from '../../../kiosk/renderer/withdrawal-limits.js';

const cassettes = [
  { denominationCents: 2_000, count: 10 },
  { denominationCents: 5_000, count: 4 },
];

function snapshot(availableCents: number): KioskSnapshot {
  return {
    screen: 'withdraw',
    language: 'en',
    languages: ['en', 'fr'],
    outOfServiceReasons: [],
    pinDigits: 0,
    onScreenPinPad: false,
    idleWarning: false,
    customer: {
      username: 'gil',
      accounts: [{ accountId: 'acc_1', kind: 'chequing', currency: 'CAD', balanceCents: availableCents + 1_000, availableCents }],
      dailyWithdrawalRemainingCents: 60_000,
      withdrawalMaxCents: 100_000,
    },
    fastCashCents: [],
    receiptAvailable: true,
    withdrawalAvailable: true,
    depositAvailable: true,
    withdrawalLimits: { cassettes },
  };
}

test('each limit is answered with the limit itself, in order: the most at once, what is left today, what is available, the notes', (t) => {
  const facts = { withdrawalMaxCents: 100_000, dailyWithdrawalRemainingCents: 60_000, availableCents: 50_000, cassettes };
  t.deepEqual(withdrawalLimitNotice(999_999_900, facts), { code: 'LIMIT_EXCEEDED', amountCents: 100_000, requestedCents: 999_999_900 });
  t.deepEqual(withdrawalLimitNotice(70_000, facts), { code: 'DAILY_LIMIT_EXCEEDED', amountCents: 60_000, requestedCents: 70_000 });
  t.deepEqual(withdrawalLimitNotice(55_000, facts), { code: 'INSUFFICIENT_FUNDS', amountCents: 50_000, requestedCents: 55_000 });
  t.deepEqual(withdrawalLimitNotice(3_000, facts), { code: 'NOT_PAYABLE', notesCents: [2_000, 5_000], requestedCents: 3_000 });
  t.deepEqual(withdrawalLimitNotice(45_000, facts), { code: 'NOT_PAYABLE', notesCents: [2_000, 5_000], requestedCents: 45_000 }, 'more than the cassettes hold');
  t.is(withdrawalLimitNotice(4_000, facts), undefined);
});

test('the amount screen and the kiosk core give the same answer to every whole-dollar amount up to $1,200', (t) => {
  for (const availableCents of [0, 12_345, 50_000, 200_000]) {
    const snap = snapshot(availableCents);
    const facts = { withdrawalMaxCents: 100_000, dailyWithdrawalRemainingCents: 60_000, availableCents, cassettes };
    for (let cents = 100; cents <= 120_000; cents += 100) {
      t.deepEqual(withdrawalRefusal(cents, snap, 'acc_1'), withdrawalLimitNotice(cents, facts), `${cents} cents with ${availableCents} available`);
    }
  }
  t.is(withdrawableTodayCents(snapshot(50_000), 'acc_1'), 50_000, 'the smaller of what is left today and what is available');
  t.is(withdrawableTodayCents(snapshot(200_000), 'acc_1'), 60_000);
});
