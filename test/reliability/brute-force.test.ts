// Brute force against the host's guessing limits, from several kiosks at once over real TLS:
//  - PINs: kiosks guess a card's PIN in parallel; the card blocks after exactly maxPinTries wrong PINs
//    whichever kiosks sent them, the right PIN is refused from then on (also after a host restart), and a
//    garbage PIN block never counts as a try (nor lets anyone in);
//  - passwords: kiosks guess a username's password in parallel; exactly PASSWORD_FAILURES_FREE guesses
//    are free, the next one locks the name, the right password is refused while it is locked (from any
//    kiosk, and after a restart), the lock doubles with each further failure up to its cap, and over a
//    simulated day of patient guessing the number of guesses the host evaluates is what the policy allows.
import test from 'ava';
import { ChannelClient } from '../../protocol/client.js';
import { encodePinBlockFormat4 } from '../../protocol/pin-block.js';
import { addCustomer, issueCard, showCustomer, unblockCard } from '../../bank-host/customers/admin.js';
import { LOCKOUT_BASE_MS, LOCKOUT_MAX_MS, PASSWORD_FAILURES_FREE } from '../../bank-host/customers/lockout.js';
import { defaultHostConfig } from '../../bank-host/config.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import { startTestHost, type TestHost, requestOutcome } from '../helpers/host.js';
import { FAST_SCRYPT, PASSWORD } from '../kiosk/core/kiosk-rig.js';
import { recordScenarioResult } from './results.js';
import { reliabilityParams, scaled, SeededRandom } from './seeded-random.js';

const KIOSKS = 5;
const GUESSES_PER_KIOSK = 4;
const CARDS_AT_SCALE_1 = 4;
const MAX_PIN_TRIES = defaultHostConfig().maxPinTries;
const DAY_MS = 24 * 3_600_000;


interface Kiosk {
  readonly deviceId: string;
  readonly kShared: Buffer;
  readonly client: ChannelClient;
}

async function connectKiosks(host: TestHost, prefix: string, now?: () => number, keys?: readonly Buffer[]): Promise<Kiosk[]> {
  const kiosks: Kiosk[] = [];
  for (let i = 0; i < KIOSKS; i++) {
    const deviceId = `${prefix}-${i}`;
    const kShared = keys?.[i] ?? (await host.addDevice(deviceId));
    const client = new ChannelClient({ host: '127.0.0.1', port: host.port, deviceId, kShared, ...(now && { now }), limits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200 } });
    client.start();
    await client.waitConnected(5_000);
    kiosks.push({ deviceId, kShared, client });
  }
  return kiosks;
}

/** A different 4-digit PIN each time, never the card's own: the test proves the limit, not luck. */
function wrongPin(random: SeededRandom, pin: string): string {
  for (;;) {
    const guess = String(random.int(0, 9_999)).padStart(4, '0');
    if (guess !== pin) return guess;
  }
}

test('PIN guesses from several kiosks at once block the card after exactly the allowed tries', async (t) => {
  const params = reliabilityParams();
  const cards = scaled(CARDS_AT_SCALE_1, params);
  t.timeout(60_000 + cards * 5_000);
  const random = new SeededRandom(params.seed, 8);
  const options = { operations: createBankingOperations({ scryptCost: FAST_SCRYPT }) };
  let host = await startTestHost(options);
  const kiosks = await connectKiosks(host, 'pin-kiosk');
  t.teardown(async () => {
    for (const kiosk of kiosks) kiosk.client.close();
    await host.close();
  });
  const services = () => host.host.state.services;
  const issued = [];
  for (let c = 0; c < cards; c++) {
    await addCustomer(services(), `pin-owner-${c}`, PASSWORD, { scryptCost: FAST_SCRYPT });
    issued.push({ username: `pin-owner-${c}`, ...(await issueCard(services(), `pin-owner-${c}`)) });
  }
  const block = (kiosk: Kiosk, pan: string, pin: string) => encodePinBlockFormat4(pin, pan, host.pinKey(kiosk.deviceId)).toString('hex');

  const violations: string[] = [];
  const answers: Record<string, number> = {};
  let guesses = 0;
  let accepted = 0;
  for (const card of issued) {
    // Every kiosk guesses this card at once, several times each; and one sends garbage PIN blocks.
    const perCard: string[] = [];
    await Promise.all(
      kiosks.map(async (kiosk, k) => {
        for (let g = 0; g < GUESSES_PER_KIOSK; g++) {
          const pinBlock = k === 0 && g % 2 === 0 ? random.bytes(16).toString('hex') : block(kiosk, card.pan, wrongPin(random, card.pin));
          const code = await requestOutcome(kiosk.client.request('signin.card', { pan: card.pan, pinBlock }));
          guesses++;
          perCard.push(code);
          answers[code] = (answers[code] ?? 0) + 1;
          if (code === 'ok') accepted++;
        }
      }),
    );
    const wrong = perCard.filter((c) => c === 'WRONG_PIN' || c === 'WRONG_PIN_LAST_TRY').length;
    const state = (await showCustomer(services(), card.username)).cards[0]!;
    if (wrong !== MAX_PIN_TRIES - 1) violations.push(`card ${card.pan.slice(-4)}: ${wrong} WRONG_PIN answers, expected ${MAX_PIN_TRIES - 1} before the block`);
    if (state.status !== 'blocked' || state.pinTriesFailed !== MAX_PIN_TRIES) violations.push(`card ${card.pan.slice(-4)}: ${state.status} after ${state.pinTriesFailed} counted tries`);
    // The right PIN, from a kiosk that never guessed, is refused now.
    const right = await requestOutcome(kiosks[KIOSKS - 1]!.client.request('signin.card', { pan: card.pan, pinBlock: block(kiosks[KIOSKS - 1]!, card.pan, card.pin) }));
    if (right !== 'CARD_BLOCKED') {
      violations.push(`card ${card.pan.slice(-4)}: the right PIN after the block answered ${right}`);
      if (right === 'ok') accepted++;
    }
  }
  // A restart forgets nothing.
  for (const kiosk of kiosks) kiosk.client.close();
  host = await host.restart();
  const keys = kiosks.map((k) => k.kShared);
  kiosks.splice(0, kiosks.length, ...(await connectKiosks(host, 'pin-kiosk', undefined, keys)));
  for (const card of issued) {
    const right = await requestOutcome(kiosks[0]!.client.request('signin.card', { pan: card.pan, pinBlock: block(kiosks[0]!, card.pan, card.pin) }));
    if (right !== 'CARD_BLOCKED') violations.push(`card ${card.pan.slice(-4)}: after a restart the right PIN answered ${right}`);
  }
  // An operator's unblock gives the customer their card back, with the right PIN.
  await unblockCard(services(), issued[0]!.pan);
  const afterUnblock = await requestOutcome(kiosks[0]!.client.request('signin.card', { pan: issued[0]!.pan, pinBlock: block(kiosks[0]!, issued[0]!.pan, issued[0]!.pin) }));
  if (afterUnblock !== 'ok') violations.push(`after an operator unblock the right PIN answered ${afterUnblock}`);

  await recordScenarioResult({
    scenario: 'brute force: PIN guessing across kiosks',
    part: 'pin',
    iterations: guesses,
    faultsInjected: guesses,
    acknowledged: accepted,
    lost: null,
    duplicated: null,
    invariantViolations: violations.length,
    measurements: { 'cards': cards, 'kiosks guessing at once': KIOSKS, 'answers': Object.entries(answers).map(([k, n]) => `${k} ${n}`).join(', ') },
  });
  t.log(`${guesses} guesses on ${cards} cards from ${KIOSKS} kiosks: ${JSON.stringify(answers)}`);
  t.deepEqual(violations, []);
  t.is(accepted, 0);
});

/** Guesses the policy lets a patient attacker have evaluated within `periodMs`: the free ones, then one
 *  each time a lock (doubling from LOCKOUT_BASE_MS, capped at LOCKOUT_MAX_MS) runs out. */
function policyGuessesWithin(periodMs: number): number {
  let elapsedMs = 0;
  let failures = 0;
  for (;;) {
    failures++;
    if (failures <= PASSWORD_FAILURES_FREE) continue;
    const lockMs = Math.min(LOCKOUT_BASE_MS * 2 ** (failures - PASSWORD_FAILURES_FREE - 1), LOCKOUT_MAX_MS);
    if (elapsedMs + lockMs > periodMs) return failures;
    elapsedMs += lockMs;
  }
}

test('password guesses from several kiosks at once lock the name after the free ones, with a doubling lock', async (t) => {
  const params = reliabilityParams();
  t.timeout(120_000);
  const random = new SeededRandom(params.seed, 9);
  const clock = { nowMs: Date.now() };
  const now = () => clock.nowMs;
  const options = { operations: createBankingOperations({ scryptCost: FAST_SCRYPT }), now };
  let host = await startTestHost(options);
  const kiosks = await connectKiosks(host, 'pw-kiosk', now);
  t.teardown(async () => {
    for (const kiosk of kiosks) kiosk.client.close();
    await host.close();
  });
  const services = () => host.host.state.services;
  await addCustomer(services(), 'pw-target', PASSWORD, { scryptCost: FAST_SCRYPT });
  const guess = (kiosk: Kiosk, password: string) => requestOutcome(kiosk.client.request('signin.password', { username: 'pw-target', password }));
  const wrongPassword = () => `guess ${random.int(0, 1e9)} wrong`;

  const violations: string[] = [];
  const answers: Record<string, number> = {};
  let guesses = 0;
  let accepted = 0;
  const tally = (code: string) => {
    guesses++;
    answers[code] = (answers[code] ?? 0) + 1;
    if (code === 'ok') accepted++;
    return code;
  };
  // The storm: every kiosk guesses at once.
  const storm = (await Promise.all(kiosks.map(async (kiosk) => {
    const codes = [];
    for (let g = 0; g < GUESSES_PER_KIOSK; g++) codes.push(tally(await guess(kiosk, wrongPassword())));
    return codes;
  }))).flat();
  const afterStorm = await showCustomer(services(), 'pw-target');
  const free = storm.filter((c) => c === 'BAD_CREDENTIALS').length;
  if (free !== PASSWORD_FAILURES_FREE) violations.push(`${free} BAD_CREDENTIALS in the storm, expected ${PASSWORD_FAILURES_FREE} free failures`);
  if (afterStorm.passwordFailures !== PASSWORD_FAILURES_FREE + 1) violations.push(`${afterStorm.passwordFailures} failures counted for ${storm.length} concurrent guesses, expected ${PASSWORD_FAILURES_FREE + 1}`);
  if (afterStorm.lockedUntilMs !== clock.nowMs + LOCKOUT_BASE_MS) violations.push(`locked until +${afterStorm.lockedUntilMs - clock.nowMs} ms, expected +${LOCKOUT_BASE_MS}`);
  // The right password is refused while locked, from any kiosk, and after a restart.
  const rightWhileLocked = tally(await guess(kiosks[1]!, PASSWORD));
  if (rightWhileLocked !== 'LOCKED_OUT') violations.push(`the right password while locked answered ${rightWhileLocked}`);
  for (const kiosk of kiosks) kiosk.client.close();
  host = await host.restart();
  kiosks.splice(0, kiosks.length, ...(await connectKiosks(host, 'pw-kiosk', now, kiosks.map((k) => k.kShared))));
  const rightAfterRestart = tally(await guess(kiosks[2]!, PASSWORD));
  if (rightAfterRestart !== 'LOCKED_OUT') violations.push(`the right password after a restart, still locked, answered ${rightAfterRestart}`);
  // Hammering while locked does not extend the lock; after it, one more failure locks twice as long.
  clock.nowMs = afterStorm.lockedUntilMs + 1;
  const sixth = tally(await guess(kiosks[3]!, wrongPassword()));
  const afterSixth = await showCustomer(services(), 'pw-target');
  if (sixth !== 'LOCKED_OUT' || afterSixth.lockedUntilMs !== clock.nowMs + 2 * LOCKOUT_BASE_MS) violations.push(`the failure after the first lock answered ${sixth}, locked +${afterSixth.lockedUntilMs - clock.nowMs} ms (expected +${2 * LOCKOUT_BASE_MS})`);
  clock.nowMs = afterSixth.lockedUntilMs + 1;
  // The customer's own sign-in once the lock has run out (not a guess: not tallied).
  const right = await guess(kiosks[4]!, PASSWORD);
  if (right !== 'ok') violations.push(`the right password after the lock answered ${right}`);
  if ((await showCustomer(services(), 'pw-target')).passwordFailures !== 0) violations.push('a correct password did not reset the failure counter');

  // A patient attacker for one simulated day: guess whenever the name is not locked.
  const kiosk = kiosks[0]!;
  await kiosk.client.request('signout', {}).catch(() => undefined);
  const dayEndsMs = clock.nowMs + DAY_MS;
  let attempts = 0;
  while (clock.nowMs < dayEndsMs) {
    const state = await showCustomer(services(), 'pw-target');
    if (state.lockedUntilMs > clock.nowMs) {
      clock.nowMs = state.lockedUntilMs;
      if (clock.nowMs >= dayEndsMs) break;
    }
    tally(await guess(kiosk, wrongPassword()));
    attempts++;
  }
  const evaluated = (await showCustomer(services(), 'pw-target')).passwordFailures;
  const allowed = policyGuessesWithin(DAY_MS);
  if (evaluated > allowed) violations.push(`${evaluated} guesses evaluated in a day, the policy allows ${allowed}`);
  if (evaluated < allowed - 1) violations.push(`only ${evaluated} of the ${allowed} guesses the policy allows were evaluated: the attacker did not test the limit`);

  await recordScenarioResult({
    scenario: 'brute force: password guessing with lockout',
    part: 'password',
    iterations: guesses,
    faultsInjected: guesses,
    acknowledged: accepted,
    lost: null,
    duplicated: null,
    invariantViolations: violations.length,
    measurements: {
      'kiosks guessing at once': KIOSKS,
      'guesses evaluated in a simulated day of patient guessing': `${evaluated} (policy: ${allowed}; lock ${LOCKOUT_BASE_MS / 1000} s doubling to ${LOCKOUT_MAX_MS / 60_000} min after ${PASSWORD_FAILURES_FREE} free)`,
      'answers': Object.entries(answers).map(([k, n]) => `${k} ${n}`).join(', '),
    },
  });
  t.log(`${guesses} guesses; a day of patient guessing got ${evaluated} evaluated (policy ${allowed}); ${JSON.stringify(answers)}`);
  t.deepEqual(violations, []);
  t.is(accepted, 0);
  t.true(attempts >= allowed);
});
