// The admin socket: a Unix domain socket, owner-only, speaking the channel's framing with
// `{ id, command, args }` requests. It is how the CLI reaches a serving host, whose database no other
// process may open.
import { chmod, unlink } from 'node:fs/promises';
import net from 'node:net';
import { encodeFrame, FrameDecoder } from '../../protocol/framing.js';
import type { Logger } from '../../protocol/log.js';
import { AdminError, errorCode } from '../errors.js';
import { runAdminCommand, type AdminContext } from './commands.js';

/** Admin replies can list many devices or holds; still bounded. */
export const ADMIN_MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const ADMIN_MAX_CLIENTS = 16;
export const ADMIN_REQUEST_TIMEOUT_MS = 60_000;
/** An operator connection with nothing in flight and nothing said for this long is closed, so idle or
 *  forgotten clients cannot hold all ADMIN_MAX_CLIENTS places. The CLI connects per command. */
export const ADMIN_IDLE_TIMEOUT_MS = 30_000;

export interface AdminRequest {
  readonly id: number;
  readonly command: string;
  readonly args: unknown;
}

/** Sent before the response, any number of times, by commands that take a while. */
export interface AdminProgress {
  readonly id: number;
  readonly progress: string;
}

export type AdminResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

export class AdminSocketServer {
  private readonly server: net.Server;
  private readonly clients = new Set<net.Socket>();

  private readonly idleTimeoutMs: number;

  constructor(
    private readonly ctx: AdminContext,
    private readonly log: Logger,
    options: { readonly idleTimeoutMs?: number } = {},
  ) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? ADMIN_IDLE_TIMEOUT_MS;
    this.server = net.createServer((socket) => this.onClient(socket));
  }

  async listen(socketPath: string): Promise<void> {
    await unlink(socketPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    // The umask makes the socket owner-only from the moment it exists; chmod afterwards would leave a window.
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(socketPath, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(previous);
    }
    await chmod(socketPath, 0o600);
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onClient(socket: net.Socket): void {
    if (this.clients.size >= ADMIN_MAX_CLIENTS) {
      socket.destroy();
      return;
    }
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => {});
    // A command still running (audit verify on a large log) is not idleness, whatever the socket says.
    let running = 0;
    socket.setTimeout(this.idleTimeoutMs);
    socket.on('timeout', () => {
      if (running === 0) socket.destroy();
    });
    const decoder = new FrameDecoder(ADMIN_MAX_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      let documents: unknown[];
      try {
        documents = decoder.push(chunk);
      } catch (error) {
        socket.end(encodeFrame({ id: 0, ok: false, error: { code: 'BAD_FRAME', message: (error as Error).message } }, ADMIN_MAX_FRAME_BYTES));
        return;
      }
      for (const document of documents) {
        running++;
        void this.answer(socket, document).finally(() => running--);
      }
    });
  }

  private async answer(socket: net.Socket, document: unknown): Promise<void> {
    const request = document as Partial<AdminRequest>;
    const id = typeof request?.id === 'number' && Number.isSafeInteger(request.id) ? request.id : 0;
    let response: AdminResponse;
    try {
      if (typeof request !== 'object' || request === null || typeof request.command !== 'string') {
        throw new AdminError('BAD_REQUEST', 'an admin request is { id, command, args }');
      }
      this.log.info('admin command', { command: request.command });
      // Long commands (audit verify) report progress as interim frames; the CLI prints them and counts each
      // one as a sign of life for its timeout.
      const progress = (text: string) => {
        if (!socket.destroyed) socket.write(encodeFrame({ id, progress: text } satisfies AdminProgress, ADMIN_MAX_FRAME_BYTES));
      };
      response = { id, ok: true, result: await runAdminCommand({ ...this.ctx, progress }, request.command, request.args) };
    } catch (error) {
      response = { id, ok: false, error: adminErrorBody(error) };
    }
    if (!socket.destroyed) socket.write(encodeFrame(response, ADMIN_MAX_FRAME_BYTES));
  }
}

export function adminErrorBody(error: unknown): { code: string; message: string } {
  return { code: errorCode(error) ?? 'FAILED', message: error instanceof Error ? error.message : String(error) };
}

/** Sends one command to a serving host and returns its result, or throws AdminError. Progress the host
 *  reports goes to `onProgress`; the timeout counts from the host's last word, so a long command that keeps
 *  reporting is not cut off. */
export async function sendAdminCommand(
  socketPath: string,
  command: string,
  args: unknown,
  timeoutMs = ADMIN_REQUEST_TIMEOUT_MS,
  onProgress?: (text: string) => void,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const decoder = new FrameDecoder(ADMIN_MAX_FRAME_BYTES);
    const timedOut = () => {
      socket.destroy();
      reject(new AdminError('TIMEOUT', `the host did not answer ${command} within ${timeoutMs} ms`));
    };
    let timer = setTimeout(timedOut, timeoutMs);
    socket.on('connect', () => socket.write(encodeFrame({ id: 1, command, args }, ADMIN_MAX_FRAME_BYTES)));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new AdminError('ADMIN_SOCKET_UNAVAILABLE', `cannot reach the host at ${socketPath}: ${error.code ?? error.message}`));
    });
    socket.on('data', (chunk: Buffer) => {
      let documents: unknown[];
      try {
        documents = decoder.push(chunk);
      } catch (error) {
        clearTimeout(timer);
        socket.destroy();
        reject(new AdminError('BAD_FRAME', (error as Error).message));
        return;
      }
      for (const document of documents) {
        const progress = (document as Partial<AdminProgress> | null)?.progress;
        if (typeof progress === 'string') {
          clearTimeout(timer);
          timer = setTimeout(timedOut, timeoutMs);
          onProgress?.(progress);
          continue;
        }
        const response = document as AdminResponse;
        clearTimeout(timer);
        socket.end();
        if (response.ok) resolve(response.result);
        else reject(new AdminError(response.error.code, response.error.message));
        return;
      }
    });
  });
}

export type AdminSocketProbe = 'live' | 'absent' | 'denied';

/** Whether a host answers on `socketPath`: `absent` when nothing does (no file, or a stale one left by a
 *  crash), `denied` when the socket is there but this user may not open it (it is owner-only). */
export async function probeAdminSocket(socketPath: string): Promise<AdminSocketProbe> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.on('connect', () => {
      socket.destroy();
      resolve('live');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EACCES' || error.code === 'EPERM' ? 'denied' : 'absent'));
  });
}
