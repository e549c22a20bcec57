// Fuzz: every parser and validator a kiosk's (or an attacker's) bytes reach, with random bytes and
// structure-aware mutations of valid requests (mutations.ts), from the seeded random source.
//  1. The pipeline, in process: bytes → FrameDecoder (in random chunks) → parseRequestEnvelope → the
//     type's body schema → the host's amount and note-count rules; plus the PIN-block decoder, the password policy,
//     the username rule, the response envelope and every result schema (what the kiosk checks). Each input
//     ends in a result that satisfies the documented rules, or in the module's own error type with a
//     stable code and a message — never another exception, never a hang.
//  2. The dispatcher with the real operation handlers on a real LevelDB, signed in and not: every
//     answer is a well-formed response with a stable code (never INTERNAL); a refused request writes
//     nothing but its idempotency record (and, for a wrong password or PIN, its failure counter); the
//     ledger check and audit verify pass at the end.
// RELIABILITY_FUZZ_INPUTS sets the pipeline's input count (the full run uses at least 1,000,000).
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { encodeFrame, FrameDecoder, FrameError } from '../../protocol/framing.js';
import { isRequestId, newRequestId, parseRequestEnvelope, parseResponseEnvelope } from '../../protocol/envelope.js';
import { isErrorCode, ProtocolError } from '../../protocol/errors.js';
import { ERROR_MESSAGE_MAX_CHARS, MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../../protocol/limits.js';
import { MAX_MESSAGE_AMOUNT_CENTS, MESSAGES, NOTES_PER_DEPOSIT_MAX, isMessageType, type MessageType, type NoteCount } from '../../protocol/messages.js';
import { decodePinBlockFormat4, encodePinBlockFormat4, PinBlockError } from '../../protocol/pin-block.js';
import { defaultHostConfig } from '../../bank-host/config.js';
import { addCustomer, issueCard, openAccount } from '../../bank-host/customers/admin.js';
import { checkPasswordPolicy } from '../../bank-host/customers/passwords.js';
import { isValidUsername } from '../../bank-host/customers/customers.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { validateTransferCents, validateWithdrawalCents } from '../../bank-host/ledger/amounts.js';
import { sumNotes } from '../../bank-host/ledger/deposits.js';
import { verifyAuditChain } from '../../bank-host/audit/verify.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import { activityOperation } from '../../bank-host/operations/activity.js';
import type { ConnectionState } from '../../bank-host/operations/context.js';
import { Dispatcher } from '../../bank-host/server/dispatcher.js';
import type { AuditedChange } from '../../bank-host/audit/event.js';
import { startTestHost } from '../helpers/host.js';
import { TEST_ACCEPTED_CENTS, notesFor, testKioskStatus } from '../helpers/kiosk-cash.js';
import { FAST_SCRYPT, PASSWORD } from '../kiosk/core/kiosk-rig.js';
import { deeplyNested, mutateBytes, mutateDocument, randomChunks, randomJson, randomNumber, randomString } from './mutations.js';
import { recordScenarioResult } from './results.js';
import { countFromEnv, reliabilityParams, scaled, SeededRandom } from './seeded-random.js';
import { testEppIdentity } from '../helpers/epp-vendor.js';

/** Pipeline inputs in the default run (RELIABILITY_FUZZ_INPUTS overrides; RELIABILITY_SCALE scales it). */
const PIPELINE_INPUTS_AT_SCALE_1 = 40_000;
/** Dispatcher inputs: each refused request is a synced LevelDB batch, so far fewer. */
const DISPATCHER_INPUTS_AT_SCALE_1 = 4_000;
/** One input taking longer than this is a hang. */
const HANG_MS = 1_000;
const MESSAGE_TYPES = Object.keys(MESSAGES) as MessageType[];
const ENVELOPE_KEYS = ['v', 'id', 'ts', 'type', 'body'];
const TYPE_NAME = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/;

interface Tally {
  inputs: number;
  accepted: number;
  violations: string[];
  slowestMs: number;
  /** How the inputs ended, by error code (or `accepted`). */
  outcomes: Record<string, number>;
}

function note(tally: Tally, outcome: string): void {
  tally.outcomes[outcome] = (tally.outcomes[outcome] ?? 0) + 1;
}

function violation(tally: Tally, text: string): void {
  // A broken rule is usually broken by many inputs; the first few say what it is.
  if (tally.violations.length < 50) tally.violations.push(text);
  else if (tally.violations.length === 50) tally.violations.push('… more');
}

/** A valid body for each type (what a kiosk would send), for structure-aware mutation. */
function validBodies(
  random: SeededRandom,
  ids: { accountId: string; otherAccountId: string; authorizationId: string; depositId: string; pan: string; pinBlock: string; username: string },
): Record<MessageType, Record<string, unknown>> {
  return {
    ping: {},
    // The test kiosk's report, its cassettes' counts moving as a kiosk's do; sometimes without an acceptor.
    'kiosk.status': testKioskStatus({
      cassettes: [
        { denominationCents: 2_000, count: random.int(0, 2_000) },
        { denominationCents: 5_000, count: random.int(0, 2_000) },
      ],
      ...(random.chance(0.1) && { noteAcceptor: undefined }),
      pendingTransactions: random.int(0, 3),
    }),
    register: { username: `fuzz${random.int(0, 1e9)}`, password: 'a fine password 123' },
    'signin.password': { username: ids.username, password: random.chance(0.5) ? PASSWORD : 'not the password' },
    'signin.card': { pan: ids.pan, pinBlock: ids.pinBlock },
    'pinkey.fetch': { eppCertificate: testEppIdentity().certificate },
    signout: {},
    // The same PIN again: a change that succeeds leaves the card's PIN as the other requests expect it.
    'pin.change': { pan: ids.pan, oldPinBlock: ids.pinBlock, newPinBlock: ids.pinBlock, confirmPinBlock: ids.pinBlock },
    balance: { accountId: ids.accountId },
    'deposit.open': { accountId: ids.accountId },
    'deposit.commit': { depositId: ids.depositId, notes: notesFor(random.int(1, 1_000) * 100) },
    'withdraw.authorize': { accountId: ids.accountId, amountCents: 2_000 * random.int(1, 5) },
    'withdraw.complete': { authorizationId: ids.authorizationId, dispensedCents: 2_000 },
    'withdraw.reverse': { authorizationId: ids.authorizationId },
    history: { accountId: ids.accountId, limit: random.int(1, 50), kinds: ['deposit'] },
    activity: { limit: random.int(1, 50) },
    transfer: { fromAccountId: ids.accountId, toAccountId: ids.otherAccountId, amountCents: random.int(1, 10_000) },
    // No technician signs in here: these are refused (no supervisor session, no open replenishment).
    'replenish.open': {},
    'replenish.unload': { replenishmentId: 'rpl_0123456789abcdef01234567', container: random.chance(0.5) ? 'cassettes' : 'cashbox', notes: [{ denominationCents: 2_000, count: random.int(0, 100) }] },
    'replenish.load': { replenishmentId: 'rpl_0123456789abcdef01234567', notes: [{ denominationCents: 2_000, count: random.int(0, 100) }] },
    'replenish.close': { replenishmentId: 'rpl_0123456789abcdef01234567' },
  };
}

function validEnvelope(random: SeededRandom, bodies: Record<MessageType, Record<string, unknown>>): Record<string, unknown> {
  const type = random.pick(MESSAGE_TYPES);
  return { v: PROTOCOL_VERSION, id: newRequestId(), ts: Date.now(), type, body: bodies[type] };
}

/** The envelope rules of docs/protocol.md §4, checked independently of the parser. */
function envelopeIsValid(document: unknown): boolean {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return false;
  const d = document as Record<string, unknown>;
  return (
    Object.keys(d).every((k) => ENVELOPE_KEYS.includes(k)) &&
    d.v === PROTOCOL_VERSION &&
    isRequestId(d.id) &&
    typeof d.ts === 'number' && Number.isSafeInteger(d.ts) && d.ts > 0 &&
    typeof d.type === 'string' && d.type.length <= 64 && TYPE_NAME.test(d.type) &&
    typeof d.body === 'object' && d.body !== null && !Array.isArray(d.body)
  );
}

/** The envelope → body → amount-rule chain the host runs on one decoded document. */
function checkDocument(tally: Tally, document: unknown): void {
  let envelope;
  try {
    envelope = parseRequestEnvelope(document);
  } catch (error) {
    if (!(error instanceof ProtocolError) || !['BAD_ENVELOPE', 'UNSUPPORTED_VERSION'].includes(error.code) || error.message.length === 0) {
      violation(tally, `parseRequestEnvelope threw ${String(error)} for ${JSON.stringify(document)?.slice(0, 200)}`);
      return;
    }
    if (envelopeIsValid(document)) violation(tally, `a valid envelope was refused: ${error.message}`);
    note(tally, error.code);
    return;
  }
  if (!envelopeIsValid(document)) violation(tally, `an invalid envelope was accepted: ${JSON.stringify(document).slice(0, 200)}`);
  if (!isMessageType(envelope.type)) {
    note(tally, 'UNKNOWN_TYPE');
    return;
  }
  const parsed = (MESSAGES[envelope.type].body as z.ZodTypeAny).safeParse(envelope.body);
  if (!parsed.success) {
    if (parsed.error.issues.length === 0) violation(tally, `${envelope.type}: a body was refused without an issue`);
    note(tally, 'BAD_BODY');
    return;
  }
  const body = parsed.data as Record<string, unknown>;
  for (const [key, value] of Object.entries(body)) {
    if (/Cents$/.test(key) && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || (key === 'amountCents' && (value < 1 || value > MAX_MESSAGE_AMOUNT_CENTS)))) {
      violation(tally, `${envelope.type}: ${key} ${value} passed the schema`);
    }
  }
  if (typeof body.amountCents === 'number') {
    const rule = { transfer: validateTransferCents, 'withdraw.authorize': (c: number) => validateWithdrawalCents(c, HOST_CONFIG) }[envelope.type as string];
    if (rule) checkAmountRule(tally, rule, body.amountCents);
  }
  if (envelope.type === 'deposit.commit') checkNotesRule(tally, body.notes as NoteCount[]);
  tally.accepted++;
  note(tally, 'accepted');
}

const HOST_CONFIG = defaultHostConfig();

function checkAmountRule(tally: Tally, rule: (cents: number) => void, cents: number): void {
  try {
    rule(cents);
    if (!Number.isSafeInteger(cents) || cents <= 0) violation(tally, `amount rule accepted ${cents}`);
  } catch (error) {
    if (!(error instanceof ProtocolError) || !['BAD_AMOUNT', 'LIMIT_EXCEEDED', 'NOT_DISPENSABLE'].includes(error.code)) violation(tally, `amount rule threw ${String(error)} for ${cents}`);
  }
}

/** The host's count of a deposit's notes (after the schema): the sum of notes the kiosk accepts, each
 *  denomination once, each count at least 1, at most NOTES_PER_DEPOSIT_MAX notes; or BAD_NOTES. Checked
 *  against the same rules written out here. */
function checkNotesRule(tally: Tally, notes: readonly NoteCount[]): void {
  const accepted: readonly number[] = TEST_ACCEPTED_CENTS;
  const denominations = notes.map((n) => n.denominationCents);
  const valid =
    notes.every((n) => accepted.includes(n.denominationCents) && n.count >= 1) &&
    new Set(denominations).size === denominations.length &&
    notes.reduce((sum, n) => sum + n.count, 0) <= NOTES_PER_DEPOSIT_MAX;
  try {
    const cents = sumNotes(notes, accepted);
    const expected = notes.reduce((sum, n) => sum + n.denominationCents * n.count, 0);
    if (!valid) violation(tally, `the notes rule accepted ${JSON.stringify(notes)}`);
    else if (cents !== expected || !Number.isSafeInteger(cents)) violation(tally, `the notes rule counted ${cents} cents in ${JSON.stringify(notes)}`);
  } catch (error) {
    if (!(error instanceof ProtocolError) || error.code !== 'BAD_NOTES' || error.message.length === 0) violation(tally, `the notes rule threw ${String(error)}`);
    else if (valid) violation(tally, `the notes rule refused ${JSON.stringify(notes)}: ${error.message}`);
  }
}

/** Notes as the body schema admits them (denominations of 1..100,000 cents, counts of 0..500, up to 16
 *  entries): mostly notes the kiosk takes, some it does not, some repeated, some empty or too many. */
function schemaValidNotes(random: SeededRandom): NoteCount[] {
  return Array.from({ length: random.int(0, 16) }, () => ({
    denominationCents: random.chance(0.7) ? random.pick(TEST_ACCEPTED_CENTS) : random.int(1, 100_000),
    count: random.chance(0.1) ? random.pick([0, NOTES_PER_DEPOSIT_MAX]) : random.int(1, 60),
  }));
}

function fuzzFrames(tally: Tally, random: SeededRandom, bytes: Buffer): void {
  const decoder = new FrameDecoder();
  let failed = false;
  for (const chunk of randomChunks(random, bytes)) {
    try {
      const documents = decoder.push(chunk);
      if (failed) violation(tally, 'the decoder returned documents after it failed');
      for (const document of documents) checkDocument(tally, document);
      if (decoder.pendingBytes > MAX_FRAME_BYTES + 4) violation(tally, `the decoder holds ${decoder.pendingBytes} bytes, more than one frame`);
    } catch (error) {
      if (!(error instanceof FrameError) || error.code !== 'BAD_FRAME' || error.message.length === 0) {
        violation(tally, `FrameDecoder threw ${String(error)}`);
        return;
      }
      if (!failed) note(tally, 'BAD_FRAME');
      failed = true;
    }
  }
}

/** One of the other validators, on hostile input. */
function fuzzValidator(tally: Tally, random: SeededRandom, pinKey: Buffer): void {
  const roll = random.next();
  if (roll < 0.15) {
    const rule = random.pick([validateTransferCents, (c: number) => validateWithdrawalCents(c, HOST_CONFIG)]);
    checkAmountRule(tally, rule, randomNumber(random));
  } else if (roll < 0.2) {
    checkNotesRule(tally, schemaValidNotes(random));
  } else if (roll < 0.4) {
    const block = random.chance(0.9) ? random.bytes(16) : random.bytes(random.int(0, 40));
    try {
      const pin = decodePinBlockFormat4(block, random.chance(0.5) ? '9990011234567890' : String(random.int(0, 1e9)), pinKey);
      if (!/^[0-9]{4,12}$/.test(pin)) violation(tally, `decodePinBlockFormat4 returned ${JSON.stringify(pin)}`);
      note(tally, 'pin block decoded');
    } catch (error) {
      if (!(error instanceof PinBlockError)) violation(tally, `decodePinBlockFormat4 threw ${String(error)}`);
      else note(tally, `PinBlockError ${error.code}`);
    }
  } else if (roll < 0.6) {
    const password = randomString(random);
    const username = random.chance(0.5) ? 'fuzzer' : randomString(random);
    try {
      const normalized = checkPasswordPolicy(password, username);
      if ([...normalized].length < 8 || [...normalized].length > 128) violation(tally, `password policy accepted ${[...normalized].length} characters`);
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.code !== 'WEAK_PASSWORD') violation(tally, `checkPasswordPolicy threw ${String(error)}`);
    }
    const valid = isValidUsername(username);
    if (valid !== /^[a-z0-9][a-z0-9._-]{2,31}$/.test(username)) violation(tally, `isValidUsername(${JSON.stringify(username)}) is ${valid}`);
  } else if (roll < 0.8) {
    // What the kiosk does with a host's answer: the envelope, then the result schema of its request.
    const response = random.chance(0.5) ? mutateDocument(random, { v: 1, id: newRequestId(), ok: true, result: { hostTimeMs: Date.now() } }) : randomJson(random);
    try {
      const parsed = parseResponseEnvelope(response);
      if (parsed.ok) (MESSAGES[random.pick(MESSAGE_TYPES)].result as z.ZodTypeAny).safeParse(parsed.result);
    } catch (error) {
      if (!(error instanceof ProtocolError) || !isErrorCode(error.code)) violation(tally, `parseResponseEnvelope threw ${String(error)}`);
    }
  } else {
    for (const type of MESSAGE_TYPES) (MESSAGES[type].result as z.ZodTypeAny).safeParse(randomJson(random));
  }
  note(tally, 'validator');
}

test('the frame decoder, envelopes, bodies and validators answer every hostile input with a result or their own clear error', async (t) => {
  const params = reliabilityParams();
  const inputs = process.env.RELIABILITY_FUZZ_INPUTS ? countFromEnv('RELIABILITY_FUZZ_INPUTS', PIPELINE_INPUTS_AT_SCALE_1) : scaled(PIPELINE_INPUTS_AT_SCALE_1, params);
  t.timeout(60_000 + inputs * 2);
  const random = new SeededRandom(params.seed, 5);
  const pinKey = randomBytes(32);
  const pan = '9990011234567890';
  const ids = {
    accountId: 'acc_0123456789abcdef',
    otherAccountId: 'acc_fedcba9876543210',
    authorizationId: 'auth_0123456789abcdef01234567',
    depositId: 'dep_0123456789abcdef01234567',
    pan,
    pinBlock: encodePinBlockFormat4('4821', pan, pinKey).toString('hex'),
    username: 'fuzzer',
  };
  const tally: Tally = { inputs: 0, accepted: 0, violations: [], slowestMs: 0, outcomes: {} };
  const started = Date.now();
  for (let i = 0; i < inputs; i++) {
    const t0 = performance.now();
    const roll = random.next();
    const bodies = validBodies(random, ids);
    if (roll < 0.3) {
      // A valid request, mutated as a document, then framed (and sometimes damaged as bytes).
      let frame: Buffer;
      try {
        frame = encodeFrame(mutateDocument(random, validEnvelope(random, bodies)));
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        frame = encodeFrame({ oversized: true });
      }
      fuzzFrames(tally, random, random.chance(0.4) ? mutateBytes(random, frame) : frame);
    } else if (roll < 0.5) {
      fuzzFrames(tally, random, random.chance(0.5) ? random.bytes(random.int(0, 300)) : Buffer.concat([Buffer.from([0, 0, random.int(0, 1), random.int(0, 255)]), random.bytes(random.int(0, 300))]));
    } else if (roll < 0.53) {
      // Nesting as deep as a frame can hold; and length prefixes at and past the limit.
      const text = deeplyNested(random.int(1_000, 30_000), random.chance(0.5) ? 'array' : 'object');
      const body = Buffer.from(text);
      const header = Buffer.alloc(4);
      header.writeUInt32BE(random.chance(0.8) ? body.length : random.pick([0, MAX_FRAME_BYTES + 1, 0xffffffff]));
      fuzzFrames(tally, random, Buffer.concat([header, body]));
    } else if (roll < 0.85) {
      checkDocument(tally, random.chance(0.85) ? mutateDocument(random, validEnvelope(random, bodies)) : randomJson(random));
    } else {
      fuzzValidator(tally, random, pinKey);
    }
    tally.inputs++;
    const ms = performance.now() - t0;
    tally.slowestMs = Math.max(tally.slowestMs, ms);
    if (ms > HANG_MS) violation(tally, `input ${i} took ${Math.round(ms)} ms`);
    if (i % 100_000 === 99_999) t.log(`${i + 1} of ${inputs} inputs, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  await recordScenarioResult({
    scenario: 'fuzz: frame decoder, envelopes, message bodies, validators',
    part: 'pipeline',
    iterations: tally.inputs,
    faultsInjected: tally.inputs,
    acknowledged: tally.accepted,
    lost: null,
    duplicated: null,
    invariantViolations: tally.violations.length,
    measurements: {
      'inputs per second': Math.round(tally.inputs / ((Date.now() - started) / 1000)),
      'slowest input ms': Math.round(tally.slowestMs),
      'outcomes': Object.entries(tally.outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '),
    },
  });
  t.log(`${tally.inputs} inputs, ${tally.accepted} accepted as valid requests, slowest ${Math.round(tally.slowestMs)} ms; ${JSON.stringify(tally.outcomes)}`);
  t.deepEqual(tally.violations, []);
  t.true(tally.accepted > 0 && tally.accepted < tally.inputs, 'the mutations produce both valid and invalid requests');
});

/** Keys a refused request may write: its idempotency record, and for a wrong password or PIN the failure
 *  counter (the whole point of counting failures). */
const KEYS_A_REFUSAL_MAY_WRITE: Record<string, RegExp> = {
  // A kiosk settling a hold an operator settled: what it reports is kept as a money exception.
  SETTLED_BY_OPERATOR: /^(idem:|idemexp:|exc:|excopen:)/,
  BAD_CREDENTIALS: /^(idem:|idemexp:|pwfail:)/,
  LOCKED_OUT: /^(idem:|idemexp:|pwfail:)/,
  WRONG_PIN: /^(idem:|idemexp:|card:)/,
  CARD_BLOCKED: /^(idem:|idemexp:|card:)/,
};
const REFUSAL_DEFAULT_KEYS = /^(idem:|idemexp:)/;

test('the dispatcher with the real handlers answers hostile requests with stable codes and writes nothing for a refusal', async (t) => {
  const params = reliabilityParams();
  const inputs = scaled(DISPATCHER_INPUTS_AT_SCALE_1, params);
  t.timeout(60_000 + inputs * 20);
  const random = new SeededRandom(params.seed, 6);
  const operations = { ...createBankingOperations({ scryptCost: FAST_SCRYPT }), activity: activityOperation };
  const host = await startTestHost({ operations, config: { registrationEnabled: true } });
  t.teardown(() => host.close());
  const services = host.host.state.services;
  await host.addDevice('kiosk-fuzz');
  const customer = await addCustomer(services, 'fuzzer', PASSWORD, { scryptCost: FAST_SCRYPT });
  const savings = await openAccount(services, 'fuzzer', 'savings');
  const card = await issueCard(services, 'fuzzer');
  const pinBlock = () => encodePinBlockFormat4(random.chance(0.7) ? card.pin : '0000', card.pan, host.pinKey('kiosk-fuzz')).toString('hex');

  // Every change the committer writes, so each answer can be tied to what it wrote (inputs run one at a time).
  const written: AuditedChange[] = [];
  const commit = services.committer.commit.bind(services.committer);
  services.committer.commit = (change: AuditedChange) => {
    written.push(change);
    return commit(change);
  };
  t.teardown(() => {
    services.committer.commit = commit;
  });
  const dispatcher = new Dispatcher({ services, operations, pinKeys: host.host.state.registry });
  const connections: ConnectionState[] = [0, 1, 2].map((i) => ({ connectionId: `fuzz-${i}`, deviceId: 'kiosk-fuzz', session: undefined }));
  const signIn = async (connection: ConnectionState, how: 'password' | 'card') => {
    const body = how === 'password' ? { username: 'fuzzer', password: PASSWORD } : { pan: card.pan, pinBlock: encodePinBlockFormat4(card.pin, card.pan, host.pinKey('kiosk-fuzz')).toString('hex') };
    await dispatcher.dispatch(connection, { v: 1, id: newRequestId(), ts: Date.now(), type: how === 'password' ? 'signin.password' : 'signin.card', body });
  };
  const send = async (connection: ConnectionState, type: MessageType, body: unknown) => {
    const response = await dispatcher.dispatch(connection, { v: 1, id: newRequestId(), ts: Date.now(), type, body });
    if (!response.ok) throw new Error(`setup ${type} failed: ${response.error.code} ${response.error.message}`);
    return response.result as Record<string, unknown>;
  };
  // The kiosk's status; a deposit so withdrawals and transfers have money to act on (well under the daily
  // deposit cap, which the fuzzed deposits may reach), and an authorization to settle.
  await send(connections[0]!, 'kiosk.status', testKioskStatus());
  await signIn(connections[1]!, 'password');
  const opened = await send(connections[1]!, 'deposit.open', { accountId: customer.accountId });
  await send(connections[1]!, 'deposit.commit', { depositId: opened.depositId, notes: notesFor(100_000) });
  const authorized = await send(connections[1]!, 'withdraw.authorize', { accountId: customer.accountId, amountCents: 2_000 });
  const authorizationId = authorized.authorizationId as string;
  // The deposit the fuzzed commits name: the latest one a fuzzed deposit.open opened (the setup's at first).
  let depositId = opened.depositId as string;

  const tally: Tally = { inputs: 0, accepted: 0, violations: [], slowestMs: 0, outcomes: {} };
  for (let i = 0; i < inputs; i++) {
    const connection = random.pick(connections);
    // Connection 0 stays signed out; 1 is kept signed in with a password and 2 with the card (while the
    // card is not blocked by the fuzzer's wrong PINs), so mutated requests reach the handlers.
    if (connection === connections[1] && !connection.session) await signIn(connection, 'password');
    if (connection === connections[2] && !connection.session && random.chance(0.3)) await signIn(connection, 'card');
    const bodies = validBodies(random, { accountId: customer.accountId, otherAccountId: savings.accountId, authorizationId, depositId, pan: card.pan, pinBlock: pinBlock(), username: 'fuzzer' });
    const roll = random.next();
    const envelope = validEnvelope(random, bodies);
    // Mostly the body (so the handlers see the damage), sometimes the envelope, some untouched, some junk.
    const document = roll < 0.6 ? { ...envelope, body: mutateDocument(random, envelope.body, 2) } : roll < 0.8 ? mutateDocument(random, envelope, 2) : roll < 0.92 ? envelope : randomJson(random);
    const readableId = typeof (document as { id?: unknown })?.id === 'string' && isRequestId((document as { id: string }).id) ? (document as { id: string }).id : '';
    written.length = 0;
    const t0 = performance.now();
    let response;
    try {
      response = await dispatcher.dispatch(connection, document);
    } catch (error) {
      violation(tally, `dispatch threw ${String(error)}`);
      continue;
    } finally {
      tally.inputs++;
    }
    const ms = performance.now() - t0;
    tally.slowestMs = Math.max(tally.slowestMs, ms);
    if (ms > HANG_MS * 2) violation(tally, `input ${i} took ${Math.round(ms)} ms`);
    let parsed;
    try {
      parsed = parseResponseEnvelope(JSON.parse(JSON.stringify(response)));
    } catch (error) {
      violation(tally, `malformed response ${JSON.stringify(response).slice(0, 200)}: ${String(error)}`);
      continue;
    }
    if (parsed.id !== readableId && !(readableId === '' && parsed.id === '')) violation(tally, `response id ${parsed.id} for request id ${readableId}`);
    if (parsed.ok) {
      tally.accepted++;
      note(tally, 'accepted');
      const opened = (parsed.result as { depositId?: unknown }).depositId;
      if ((document as { type?: unknown }).type === 'deposit.open' && typeof opened === 'string') depositId = opened;
      continue;
    }
    const { code, message } = parsed.error;
    note(tally, code);
    if (code === 'INTERNAL') violation(tally, `INTERNAL for ${JSON.stringify(document).slice(0, 300)}: ${message}`);
    if (message.length === 0 || message.length > ERROR_MESSAGE_MAX_CHARS) violation(tally, `${code}: message of ${message.length} characters`);
    // The PIN is 4 digits: only a standalone run of exactly those digits counts, or any message quoting a
    // bound such as 9007199254740991 would "carry" one PIN in a thousand.
    const pinAlone = new RegExp(`(?<![0-9])${card.pin}(?![0-9])`);
    for (const [name, found] of [['password', message.includes(PASSWORD)], ['PIN', pinAlone.test(message)], ['PAN', message.includes(card.pan)]] as const) {
      if (found) violation(tally, `${code}: the message carries the ${name}: ${message.slice(0, 120)}`);
    }
    const allowed = KEYS_A_REFUSAL_MAY_WRITE[code] ?? REFUSAL_DEFAULT_KEYS;
    for (const change of written) {
      for (const op of change.ops) if (!allowed.test(op.key)) violation(tally, `${code} wrote ${op.key} for ${JSON.stringify(document).slice(0, 200)}`);
    }
  }
  services.committer.commit = commit;
  const ledger = await checkLedger(services.db);
  const audit = await verifyAuditChain(services.db, { enc: services.keys.auditEnc, mac: services.keys.auditMac, sign: services.keys.auditSign });
  if (!ledger.ok) violation(tally, `ledger check: ${ledger.problems.map((p) => p.message).join('; ')}`);
  if (!audit.ok) violation(tally, `audit verify: ${audit.problem?.message}`);
  await recordScenarioResult({
    scenario: 'fuzz: dispatcher with real handlers and LevelDB',
    part: 'dispatcher',
    iterations: tally.inputs,
    faultsInjected: tally.inputs,
    acknowledged: tally.accepted,
    lost: null,
    duplicated: null,
    invariantViolations: tally.violations.length,
    measurements: {
      'slowest input ms': Math.round(tally.slowestMs),
      'answers': Object.entries(tally.outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '),
    },
  });
  t.log(`${tally.inputs} inputs, ${tally.accepted} accepted; ${JSON.stringify(tally.outcomes)}`);
  t.deepEqual(tally.violations, []);
  t.true(tally.accepted > 0, 'some mutated requests are still valid and reach the handlers');
});
