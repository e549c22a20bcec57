// The ccTalk command exchange on the shared serial command queue: the queue gives the order, one command
// on the line at a time, BUSY and NOT_OPEN; the exchange matches a reply, bounds its wait and resends
// within a budget. Driven without a port: a recorded write and frames delivered by hand.
import test from 'ava';
import { CcTalkCommandExchange, type CommandRequest } from '../../../kiosk/devices/note-acceptor/command-exchange.js';
import { encodeFrame, type CcTalkFrame } from '../../../kiosk/devices/note-acceptor/cctalk-frame.js';
import { HEADER, MessageFormatError } from '../../../kiosk/devices/note-acceptor/headers.js';
import { DeviceError, isDeviceError } from '../../../kiosk/devices/serial/device-error.js';

/** Generous for a loaded machine: every wait here ends on an event, not on this bound. */
const BOUND_MS = 5_000;

function rig(limits: { replyTimeoutMs?: number; maxQueuedCommands?: number } = {}) {
  const written: number[] = [];
  const exchange = new CcTalkCommandExchange(
    async (frame) => {
      written.push(frame[3] ?? -1);
    },
    { replyTimeoutMs: limits.replyTimeoutMs ?? BOUND_MS, maxQueuedCommands: limits.maxQueuedCommands ?? 8 },
  );
  return { exchange, written };
}

function request(header: number, attempts = 3): CommandRequest<number[]> {
  return {
    frame: encodeFrame({ destination: 40, source: 1, header, data: new Uint8Array(0) }),
    attempts,
    name: `header ${header}`,
    parse: (reply) => {
      if (reply.header === HEADER.NAK) throw new DeviceError('NOTE_ACCEPTOR_NAK', `header ${header} was refused (NAK)`);
      if (reply.data.length !== 1) throw new MessageFormatError(`${reply.data.length} data bytes, expected 1`);
      return [...reply.data];
    },
  };
}

const reply = (...data: number[]): CcTalkFrame => ({ destination: 1, source: 40, header: HEADER.REPLY, data: Uint8Array.from(data) });

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${BOUND_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('commands go on the line one at a time, in the order given, each taking the next frame as its reply', async (t) => {
  const { exchange, written } = rig();
  const first = exchange.run(request(HEADER.REQUEST_SERIAL_NUMBER));
  const second = exchange.run(request(HEADER.REQUEST_MASTER_INHIBIT_STATUS));
  const third = exchange.run(request(HEADER.REQUEST_BILL_OPERATING_MODE));
  t.is(exchange.queued, 3);
  await until(() => written.length === 1, 'the first frame written');
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.deepEqual(written, [HEADER.REQUEST_SERIAL_NUMBER], 'nothing else is written while the first waits for its reply');
  exchange.deliver(reply(1));
  await until(() => written.length === 2, 'the second frame written');
  exchange.deliver(reply(2));
  await until(() => written.length === 3, 'the third frame written');
  exchange.deliver(reply(3));
  t.deepEqual(await Promise.all([first, second, third]), [[1], [2], [3]]);
  t.deepEqual(written, [HEADER.REQUEST_SERIAL_NUMBER, HEADER.REQUEST_MASTER_INHIBIT_STATUS, HEADER.REQUEST_BILL_OPERATING_MODE]);
  t.is(exchange.queued, 0);
});

test('a frame that arrives with no command waiting is stale: counted, and never taken as the next reply', async (t) => {
  const { exchange, written } = rig();
  exchange.deliver(reply(9));
  t.is(exchange.stats.staleReplies, 1);
  const answer = exchange.run(request(HEADER.REQUEST_SERIAL_NUMBER));
  await until(() => written.length === 1, 'the frame written');
  exchange.deliver(reply(4));
  t.deepEqual(await answer, [4]);
});

test('no reply: the same frame is sent attempts times, then NOTE_ACCEPTOR_NO_REPLY', async (t) => {
  const { exchange, written } = rig({ replyTimeoutMs: 30 });
  const error = await exchange.run(request(HEADER.REQUEST_SERIAL_NUMBER, 3)).catch((e: unknown) => e);
  t.true(isDeviceError(error, 'NOTE_ACCEPTOR_NO_REPLY'), String(error));
  t.is((error as Error).message, 'header 242: no reply within 30 ms (3 attempts)');
  t.deepEqual(written, [242, 242, 242]);
  t.like(exchange.stats, { sends: 3, retransmissions: 2, replyTimeouts: 3 });
});

test('a command allowed one attempt is never resent', async (t) => {
  const { exchange, written } = rig({ replyTimeoutMs: 30 });
  const error = await exchange.run(request(HEADER.ROUTE_BILL, 1)).catch((e: unknown) => e);
  t.true(isDeviceError(error, 'NOTE_ACCEPTOR_NO_REPLY'), String(error));
  t.deepEqual(written, [HEADER.ROUTE_BILL]);
});

test('a reply that does not parse is a failed attempt: resent, and NOTE_ACCEPTOR_BAD_REPLY when none parses', async (t) => {
  const { exchange, written } = rig();
  const answer = exchange.run(request(HEADER.REQUEST_SERIAL_NUMBER, 2)).catch((e: unknown) => e);
  await until(() => written.length === 1, 'first send');
  exchange.deliver(reply(1, 2));
  await until(() => written.length === 2, 'second send');
  exchange.deliver(reply());
  const error = await answer;
  t.true(isDeviceError(error, 'NOTE_ACCEPTOR_BAD_REPLY'), String(error));
  t.is((error as Error).message, 'header 242: 0 data bytes, expected 1 (2 attempts)');
  t.is(exchange.stats.unparsableReplies, 2);
});

test('a DeviceError from parsing (a NAK) is an answer: it fails the command at once, without a resend', async (t) => {
  const { exchange, written } = rig();
  const answer = exchange.run(request(HEADER.MODIFY_MASTER_INHIBIT_STATUS, 3)).catch((e: unknown) => e);
  await until(() => written.length === 1, 'first send');
  exchange.deliver({ destination: 1, source: 40, header: HEADER.NAK, data: new Uint8Array(0) });
  t.true(isDeviceError(await answer, 'NOTE_ACCEPTOR_NAK'));
  t.is(written.length, 1);
});

test('more commands than maxQueuedCommands waiting or in progress are refused with BUSY, nothing written for them', async (t) => {
  const { exchange, written } = rig({ maxQueuedCommands: 2 });
  const first = exchange.run(request(HEADER.REQUEST_SERIAL_NUMBER));
  const second = exchange.run(request(HEADER.REQUEST_PRODUCT_CODE));
  const refused = await exchange.run(request(HEADER.REQUEST_MANUFACTURER_ID)).catch((e: unknown) => e);
  t.true(isDeviceError(refused, 'BUSY'), String(refused));
  t.is((refused as Error).message, '2 note acceptor commands already queued');
  await until(() => written.length === 1, 'first send');
  exchange.deliver(reply(1));
  await until(() => written.length === 2, 'second send');
  exchange.deliver(reply(2));
  t.deepEqual(await Promise.all([first, second]), [[1], [2]]);
  t.false(written.includes(HEADER.REQUEST_MANUFACTURER_ID));
});

test('close fails the command waiting for its reply and every queued one with NOT_OPEN; the queued ones are never written', async (t) => {
  const { exchange, written } = rig();
  const inProgress = exchange.run(request(HEADER.REQUEST_SERIAL_NUMBER)).catch((e: unknown) => e);
  const queued = exchange.run(request(HEADER.REQUEST_PRODUCT_CODE)).catch((e: unknown) => e);
  await until(() => written.length === 1, 'first send');
  exchange.close();
  const [cutShort, neverSent] = await Promise.all([inProgress, queued]);
  t.true(isDeviceError(cutShort, 'NOT_OPEN'), String(cutShort));
  t.is((cutShort as Error).message, 'the note acceptor driver was closed');
  t.true(isDeviceError(neverSent, 'NOT_OPEN'), String(neverSent));
  t.is((neverSent as Error).message, 'the note acceptor driver is not open');
  t.deepEqual(written, [HEADER.REQUEST_SERIAL_NUMBER]);
  const after = await exchange.run(request(HEADER.SIMPLE_POLL)).catch((e: unknown) => e);
  t.true(isDeviceError(after, 'NOT_OPEN'), 'a closed exchange refuses at once');
  t.is(exchange.queued, 0);
});
