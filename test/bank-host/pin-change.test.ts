// pin.change on the real dispatcher: the card the session signed in with, its current PIN checked like a
// sign-in's (a wrong one is a failed try, and the last blocks the card), the new PIN twice and equal, the
// change atomic and audited, and no PIN or PIN block in the audit record.
import test from 'ava';
import { addCustomer, issueCard } from '../../bank-host/customers/admin.js';
import { cardIdOf } from '../../bank-host/customers/card-protection.js';
import { ProtocolError } from '../../protocol/errors.js';
import { TEST_SCRYPT_COST, type Harness, createHarness } from '../helpers/dispatcher-harness.js';

const PASSWORD = 'correct horse battery';
const NEW_PIN = '8264';

async function withHarness(run: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await run(h);
  } finally {
    await h.close();
  }
}

function code(answer: unknown): string {
  return answer instanceof ProtocolError ? answer.code : `not an error: ${JSON.stringify(answer)}`;
}

async function cardSession(h: Harness, username: string) {
  await addCustomer(h.services, username, PASSWORD, { scryptCost: TEST_SCRYPT_COST });
  const card = await issueCard(h.services, username);
  const connection = await h.connect();
  const block = (pin: string) => h.pinBlock('kiosk-01', card.pan, pin);
  await h.ok(connection, 'signin.card', { pan: card.pan, pinBlock: block(card.pin) });
  const change = (oldPin: string, newPin: string, confirmPin = newPin) =>
    h.call(connection, 'pin.change', { pan: card.pan, oldPinBlock: block(oldPin), newPinBlock: block(newPin), confirmPinBlock: block(confirmPin) });
  const stored = () => h.services.db.get(`card:${cardIdOf(h.services.keys.master, card.pan)}`) as Promise<{ pinTriesFailed: number; status: string; pinVerificationValue: string }>;
  return { card, connection, block, change, stored };
}

test('the PIN changes at once: the new PIN signs in, the old one no longer does, and the audit holds no PIN', (t) =>
  withHarness(async (h) => {
    const { card, block, change, stored } = await cardSession(h, 'alice');
    const before = (await stored()).pinVerificationValue;
    t.deepEqual(await change(card.pin, NEW_PIN), {});
    t.not((await stored()).pinVerificationValue, before);
    const other = await h.connect();
    t.is(code(await h.call(other, 'signin.card', { pan: card.pan, pinBlock: block(card.pin) })), 'WRONG_PIN');
    await h.ok(other, 'signin.card', { pan: card.pan, pinBlock: block(NEW_PIN) });
    t.is((await stored()).pinTriesFailed, 0, 'the right PIN clears the failure count');
    const audited = h.events.filter((e) => e.action === 'pin.change');
    t.like(audited, [{ outcome: 'ok', detail: { cardLast4: card.pan.slice(-4) } }]);
    const text = JSON.stringify(h.events);
    for (const secret of [NEW_PIN, block(NEW_PIN), card.pan]) t.false(text.includes(secret), 'no PIN, PIN block or PAN in the audit log');
  }));

test('a wrong current PIN is a failed try: warned before the last, the last blocks the card; nothing changes', (t) =>
  withHarness(async (h) => {
    const { card, change, stored } = await cardSession(h, 'bob');
    const wrong = card.pin === '1357' ? '2468' : '1357';
    const before = (await stored()).pinVerificationValue;
    t.is(code(await change(wrong, NEW_PIN)), 'WRONG_PIN');
    t.is(code(await change(wrong, NEW_PIN)), 'WRONG_PIN_LAST_TRY');
    t.is((await stored()).pinVerificationValue, before);
    t.is(code(await change(wrong, NEW_PIN)), 'CARD_BLOCKED');
    t.like(await stored(), { status: 'blocked', pinTriesFailed: 3, pinVerificationValue: before });
    t.is(code(await change(card.pin, NEW_PIN)), 'CARD_BLOCKED', 'a blocked card changes nothing, even with the right PIN');
    t.like(h.events.filter((e) => e.action === 'pin.change').map((e) => e.outcome), ['failed', 'failed', 'failed', 'failed']);
  }));

test('the new PIN must be confirmed, the session must be this card\'s, and bad blocks are refused; each changes nothing', (t) =>
  withHarness(async (h) => {
    const { card, connection, block, change, stored } = await cardSession(h, 'carol');
    const before = await stored();
    t.is(code(await change(card.pin, NEW_PIN, '8265')), 'PIN_MISMATCH');
    t.is(code(await h.call(connection, 'pin.change', { pan: card.pan, oldPinBlock: block(card.pin), newPinBlock: 'ff'.repeat(16), confirmPinBlock: 'ff'.repeat(16) })), 'BAD_PIN_BLOCK');
    t.is(code(await h.call(connection, 'pin.change', { pan: card.pan, oldPinBlock: 'xyz', newPinBlock: block(NEW_PIN), confirmPinBlock: block(NEW_PIN) })), 'BAD_BODY');
    t.deepEqual(await stored(), before);
    // Another card's PIN cannot be changed from this session, nor any from a password session.
    await addCustomer(h.services, 'dave', PASSWORD, { scryptCost: TEST_SCRYPT_COST });
    const daves = await issueCard(h.services, 'dave');
    const daveBlock = (pin: string) => h.pinBlock('kiosk-01', daves.pan, pin);
    t.is(code(await h.call(connection, 'pin.change', { pan: daves.pan, oldPinBlock: daveBlock(daves.pin), newPinBlock: daveBlock(NEW_PIN), confirmPinBlock: daveBlock(NEW_PIN) })), 'NOT_CARD_SESSION');
    const passwordSession = await h.connect();
    await h.ok(passwordSession, 'signin.password', { username: 'carol', password: PASSWORD });
    t.is(code(await h.call(passwordSession, 'pin.change', { pan: card.pan, oldPinBlock: block(card.pin), newPinBlock: block(NEW_PIN), confirmPinBlock: block(NEW_PIN) })), 'NOT_CARD_SESSION');
    const signedOut = await h.connect();
    t.is(code(await h.call(signedOut, 'pin.change', { pan: card.pan, oldPinBlock: block(card.pin), newPinBlock: block(NEW_PIN), confirmPinBlock: block(NEW_PIN) })), 'NOT_SIGNED_IN');
    t.deepEqual(await stored(), before);
  }));
