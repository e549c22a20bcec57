// The admin socket as a boundary: whatever arrives on it gets a clear error with a stable code, and the
// host keeps serving operators and kiosks.
import test from 'ava';
import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../../protocol/framing.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AdminContext } from '../../bank-host/admin/commands.js';
import { ADMIN_MAX_CLIENTS, ADMIN_MAX_FRAME_BYTES, AdminSocketServer, sendAdminCommand } from '../../bank-host/admin/socket.js';
import { silentLogger } from '../../protocol/log.js';
import { eventually, startTestHost, type TestHost } from '../helpers/host.js';

let h: TestHost;
test.before(async () => {
  h = await startTestHost();
});
test.after.always(async () => h?.close());

/** Writes raw bytes to the admin socket; returns the frames it answers until it closes, `expectedAnswers`
 *  arrived or `waitMs` passed. */
function exchange(bytes: Buffer, waitMs: number, expectedAnswers = Infinity): Promise<{ answers: unknown[]; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(h.adminSocket);
    const decoder = new FrameDecoder(ADMIN_MAX_FRAME_BYTES);
    const answers: unknown[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ answers, closed });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      answers.push(...decoder.push(chunk));
      if (answers.length >= expectedAnswers) finish();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
  });
}

const codeOf = (answer: unknown) => (answer as { error?: { code?: string } }).error?.code;

test.serial('unknown commands, bad arguments and requests that are not { id, command, args } get stable codes', async (t) => {
  const cases: [unknown, string][] = [
    [{ id: 1, command: 'device.destroy-everything', args: {} }, 'UNKNOWN_COMMAND'],
    [{ id: 2, command: 'device.add', args: { deviceId: 'kiosk-x', extra: true } }, 'BAD_ARGUMENTS'],
    [{ id: 3, command: 'device.add', args: { deviceId: 42 } }, 'BAD_ARGUMENTS'],
    [{ id: 4, command: 'holds.list', args: { all: true, olderThanMs: 1_000 } }, 'BAD_ARGUMENTS'],
    [{ id: 5, command: 'card.block', args: { pan: '12ab' } }, 'BAD_ARGUMENTS'],
    [{ id: 6, args: {} }, 'BAD_REQUEST'],
    [[1, 2, 3], 'BAD_REQUEST'],
    [{ id: 7, command: 'device.add', args: { deviceId: 'Not A Device' } }, 'BAD_DEVICE_ID'],
  ];
  const { answers } = await exchange(Buffer.concat(cases.map(([request]) => encodeFrame(request, ADMIN_MAX_FRAME_BYTES))), 5_000, cases.length);
  t.is(answers.length, cases.length);
  for (const [request, code] of cases) {
    const id = (request as { id?: number }).id ?? 0;
    t.true(answers.some((a) => (a as { id: number }).id === id && codeOf(a) === code), `${JSON.stringify(request)} → ${code}`);
  }
  t.is(h.host.state.registry.get('kiosk-x'), undefined, 'nothing was created');
});

test.serial('a malformed or oversized frame is answered BAD_FRAME and the connection closed; the host serves on', async (t) => {
  const notJson = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')]);
  const oversized = Buffer.alloc(4);
  oversized.writeUInt32BE(ADMIN_MAX_FRAME_BYTES + 1);
  for (const bytes of [notJson, oversized]) {
    const { answers, closed } = await exchange(bytes, 3_000);
    t.is(codeOf(answers[0]), 'BAD_FRAME');
    t.true(closed);
  }
  t.deepEqual(await sendAdminCommand(h.adminSocket, 'device.list', {}), { devices: [] });
  const kiosk = await h.connectedClient('kiosk-next-door');
  t.truthy(await kiosk.request('ping', {}));
});

test.serial('the admin socket serves a bounded number of operators at once', async (t) => {
  const held: net.Socket[] = [];
  for (let i = 0; i < ADMIN_MAX_CLIENTS; i++) {
    const socket = net.connect(h.adminSocket);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    held.push(socket);
  }
  const extra = net.connect(h.adminSocket);
  extra.on('error', () => {});
  extra.resume();
  t.true(await eventually(() => extra.destroyed || extra.readyState === 'closed', 3_000), 'the connection past the bound is dropped');
  for (const socket of held) socket.destroy();
  t.true(
    await eventually(async () => {
      try {
        await sendAdminCommand(h.adminSocket, 'status', {}, 1_000);
        return true;
      } catch {
        return false;
      }
    }, 3_000),
    'once they leave, the next operator is served',
  );
});

test('an operator connection that says nothing is closed after the idle timeout, freeing its place', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'admin-idle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const server = new AdminSocketServer({} as AdminContext, silentLogger, { idleTimeoutMs: 200 });
  const socketPath = path.join(dir, 'admin.sock');
  await server.listen(socketPath);
  t.teardown(() => server.close());
  const idle = net.connect(socketPath);
  idle.on('error', () => {});
  await new Promise((resolve) => idle.once('connect', resolve));
  const startedMs = Date.now();
  await new Promise((resolve) => idle.once('close', resolve));
  t.true(Date.now() - startedMs >= 150, 'not before the timeout');
});
