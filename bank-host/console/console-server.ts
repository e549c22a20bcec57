// The operator console: a read-only web page and its JSON API, and the Prometheus metrics, on a listener
// of their own (loopback by default; anywhere else only over TLS). Every request but the sign-in page
// needs an operator's live token: a session cookie made by signing in with it, or the token itself as a
// bearer header (scripts, Prometheus). Nothing here changes the bank's state; the only POSTs sign in and
// out. Strict CSP and the other security headers on every answer; bounded headers, bodies and times.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../protocol/log.js';
import type { AuditEvent } from '../audit/event.js';
import { describe, errorCode } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import type { OperatorIdentity, OperatorTokens } from '../fleet/operator-tokens.js';
import type { HostMetrics } from './metrics.js';
import { ConsoleSessions, LoginThrottle, type ConsoleSession } from './sessions.js';
import { type ConsoleUi, loadConsoleUi } from './static-files.js';

export const CONSOLE_DEFAULT_LISTEN = '127.0.0.1:7444';
/** Bounds of the listener: sign-in bodies are a token, and nothing else has a body. */
export const CONSOLE_BODY_BYTES_MAX = 2_048;
export const CONSOLE_HEADER_BYTES_MAX = 8_192;
export const CONSOLE_REQUEST_TIMEOUT_MS = 10_000;
export const CONSOLE_HEADERS_TIMEOUT_MS = 5_000;
export const CONSOLE_KEEP_ALIVE_MS = 5_000;
export const CONSOLE_CONNECTIONS_MAX = 128;
const COOKIE = 'bh_console';
const DEVICE_ID = /^[a-z0-9][a-z0-9-]{2,62}$/;

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface ConsoleOptions {
  readonly host: string;
  readonly port: number;
  /** The built UI (default: dist/console). */
  readonly uiDir: string;
  /** Required for any address but loopback. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

export interface ConsoleDeps {
  readonly fleet: Fleet;
  readonly operators: OperatorTokens;
  readonly metrics: HostMetrics;
  readonly sessionLimits: { readonly maxMs: number; readonly idleMs: number };
  readonly record: (event: AuditEvent) => void;
  readonly log: Logger;
  readonly now: () => number;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

interface Caller {
  readonly operator: OperatorIdentity;
  /** Absent for a bearer token. */
  readonly sessionId?: string;
  readonly session?: ConsoleSession & { viewed?: Set<string> };
}

export class OperatorConsole {
  private readonly sessions: ConsoleSessions;
  private readonly throttle: LoginThrottle;
  private readonly onRevoked = (name: string) => {
    const ended = this.sessions.endAllOf(name);
    if (ended > 0) this.deps.log.info('console sessions ended: token revoked', { operator: name, sessions: ended });
  };

  private constructor(
    private readonly deps: ConsoleDeps,
    private readonly server: http.Server,
    private readonly ui: ConsoleUi | undefined,
    private readonly secure: boolean,
    readonly address: AddressInfo,
  ) {
    this.sessions = new ConsoleSessions(deps.sessionLimits, deps.now);
    this.throttle = new LoginThrottle(deps.now);
    deps.operators.on('revoked', this.onRevoked);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.handle(req, res).catch((error) => {
        deps.log.error('console request failed', { error: describe(error) });
        if (!res.headersSent) this.json(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
  }

  static async start(deps: ConsoleDeps, options: ConsoleOptions): Promise<OperatorConsole> {
    if (options.tls === undefined && !isLoopback(options.host)) {
      throw new Error(`the console listens on ${options.host} only over TLS (--console-tls-cert, --console-tls-key): its tokens and pages must not cross a network in clear`);
    }
    const ui = await loadConsoleUi(options.uiDir);
    if (ui === undefined) deps.log.warn('the console UI is not built (npm run build); serving its API and /metrics only', { uiDir: options.uiDir });
    const serverOptions: http.ServerOptions = {
      maxHeaderSize: CONSOLE_HEADER_BYTES_MAX,
      requestTimeout: CONSOLE_REQUEST_TIMEOUT_MS,
      headersTimeout: CONSOLE_HEADERS_TIMEOUT_MS,
      keepAliveTimeout: CONSOLE_KEEP_ALIVE_MS,
    };
    const server =
      options.tls === undefined
        ? http.createServer(serverOptions)
        : https.createServer({ ...serverOptions, cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile), minVersion: 'TLSv1.2' });
    server.maxConnections = CONSOLE_CONNECTIONS_MAX;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('clientError', (_error, socket) => socket.destroy());
    return new OperatorConsole(deps, server, ui, options.tls !== undefined, server.address() as AddressInfo);
  }

  async close(): Promise<void> {
    this.deps.operators.off('revoked', this.onRevoked);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.securityHeaders(res);
    const path = new URL(req.url ?? '/', 'http://console.invalid').pathname;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') return this.plain(res, 405, 'method not allowed', { allow: 'GET, POST' });

    if (path === '/login') return method === 'POST' ? this.signIn(req, res) : this.loginPage(res, 200, req);
    const file = this.ui?.files.get(path);
    if (method === 'GET' && file !== undefined && this.ui!.publicPaths.has(path)) return this.file(res, file);

    const caller = this.authenticate(req);
    if (caller === undefined) {
      if (method === 'GET' && !path.startsWith('/api/') && path !== '/metrics') return this.redirect(res, '/login');
      res.setHeader('www-authenticate', 'Bearer realm="bank-host console"');
      return this.json(res, 401, { error: 'sign in, or send an operator token as a bearer header' });
    }
    if (method === 'POST') {
      if (path === '/logout') return this.signOut(req, res, caller);
      return this.plain(res, 405, 'the console changes nothing', { allow: 'GET' });
    }
    if (path === '/' || path === '/index.html') {
      if (this.ui === undefined) return this.plain(res, 503, 'the console UI is not built: run npm run build');
      return this.send(res, 200, 'text/html; charset=utf-8', this.ui.indexHtml);
    }
    if (file !== undefined) return this.file(res, file);
    if (path === '/metrics') return this.send(res, 200, this.deps.metrics.contentType, await this.deps.metrics.text());
    if (path === '/api/session') return this.json(res, 200, { operator: caller.operator.name, expiresMs: caller.session?.expiresMs ?? null });
    if (path === '/api/fleet') return this.json(res, 200, this.deps.fleet.overview());
    if (path === '/api/activity') return this.json(res, 200, await this.deps.fleet.activity());
    const kiosk = /^\/api\/kiosks\/([^/]+)$/.exec(path)?.[1];
    if (kiosk !== undefined) return this.kioskDetail(res, caller, decodeURIComponent(kiosk));
    return this.json(res, 404, { error: 'not found' });
  }

  private async kioskDetail(res: http.ServerResponse, caller: Caller, deviceId: string): Promise<void> {
    if (!DEVICE_ID.test(deviceId)) return this.json(res, 404, { error: 'no such kiosk' });
    try {
      const detail = await this.deps.fleet.detail(deviceId);
      // A kiosk's recent transactions are customers' activity: the first look in a session (every look
      // with a bearer token) is recorded, not every refresh of the page.
      const viewed = caller.session ? (caller.session.viewed ??= new Set()) : undefined;
      if (viewed === undefined || !viewed.has(deviceId)) {
        viewed?.add(deviceId);
        this.deps.record({ action: 'console.kiosk.show', outcome: 'ok', actor: 'operator', deviceId, detail: { operator: caller.operator.name } });
      }
      return this.json(res, 200, detail);
    } catch (error) {
      if (errorCode(error) === 'DEVICE_UNKNOWN') return this.json(res, 404, { error: 'no such kiosk' });
      throw error;
    }
  }

  private authenticate(req: http.IncomingMessage): Caller | undefined {
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      // A wrong bearer token is refused even beside a good cookie: the caller meant the token.
      const match = /^Bearer ([^\s]+)$/.exec(authorization);
      const operator = match ? this.deps.operators.verify(match[1]!) : undefined;
      return operator === undefined ? undefined : { operator };
    }
    const sessionId = cookieValue(req.headers.cookie, COOKIE);
    if (sessionId === undefined) return undefined;
    const session = this.sessions.use(sessionId, (operator) => this.deps.operators.isCurrent(operator));
    return session === undefined ? undefined : { operator: session.operator, sessionId, session };
  }

  private async signIn(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.sameOrigin(req)) return this.plain(res, 403, 'cross-site sign-in refused');
    const address = req.socket.remoteAddress ?? 'unknown';
    if (this.throttle.refused(address)) return this.loginPage(res, 429, req, 'Too many failed sign-ins from here. Wait a minute and try again.');
    if (!/^application\/x-www-form-urlencoded\b/.test(req.headers['content-type'] ?? '')) return this.plain(res, 415, 'send the sign-in form');
    const body = await readBody(req, CONSOLE_BODY_BYTES_MAX);
    if (body === undefined) return this.plain(res, 413, 'the sign-in form is too large');
    const token = new URLSearchParams(body).get('token')?.trim() ?? '';
    const operator = this.deps.operators.verify(token);
    if (operator === undefined) {
      this.throttle.failed(address);
      this.deps.record({ action: 'console.login', outcome: 'refused', reason: 'BAD_TOKEN' });
      return this.loginPage(res, 401, req, 'That token is not valid, or it has been revoked.');
    }
    const { sessionId, session } = this.sessions.create(operator);
    this.deps.record({ action: 'console.login', outcome: 'ok', actor: 'operator', detail: { operator: operator.name } });
    const maxAgeS = Math.floor((session.expiresMs - session.createdMs) / 1000);
    res.setHeader('set-cookie', `${COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${this.secure ? '; Secure' : ''}`);
    return this.redirect(res, '/');
  }

  private signOut(req: http.IncomingMessage, res: http.ServerResponse, caller: Caller): void {
    if (!this.sameOrigin(req)) return this.plain(res, 403, 'cross-site sign-out refused');
    if (caller.sessionId !== undefined) {
      this.sessions.end(caller.sessionId);
      this.deps.record({ action: 'console.logout', outcome: 'ok', actor: 'operator', detail: { operator: caller.operator.name } });
    }
    res.setHeader('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.secure ? '; Secure' : ''}`);
    return this.redirect(res, '/login');
  }

  /** A browser's POST names where it comes from; it must be this console (a form on another site must
   *  not sign anyone in or out). A client that sends neither header is not a browser. */
  private sameOrigin(req: http.IncomingMessage): boolean {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return false;
    const origin = req.headers.origin;
    return origin === undefined || origin === `${this.secure ? 'https' : 'http'}://${req.headers.host ?? ''}`;
  }

  private loginPage(res: http.ServerResponse, status: number, req: http.IncomingMessage, message?: string): void {
    const expired = message === undefined && new URL(req.url ?? '/', 'http://console.invalid').searchParams.has('ended');
    const text = message ?? (expired ? 'Your session has ended. Sign in again.' : undefined);
    const notice = text === undefined ? '' : `<p class="notice" role="alert">${escapeHtml(text)}</p>`;
    const page = (this.ui?.loginHtml ?? FALLBACK_LOGIN).replace('<!--notice-->', notice);
    this.send(res, status, 'text/html; charset=utf-8', page);
  }

  private securityHeaders(res: http.ServerResponse): void {
    res.setHeader('content-security-policy', CONSOLE_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    // same-origin, not no-referrer: with no-referrer a browser's form POST says `Origin: null`, and the sign-in
    // form's origin is what proves it came from this console.
    res.setHeader('referrer-policy', 'same-origin');
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-resource-policy', 'same-origin');
    res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=()');
    res.setHeader('cache-control', 'no-store');
    if (this.secure) res.setHeader('strict-transport-security', 'max-age=31536000');
  }

  private file(res: http.ServerResponse, file: { body: Buffer; contentType: string; immutable: boolean }): void {
    if (file.immutable) res.setHeader('cache-control', 'private, max-age=31536000, immutable');
    this.send(res, 200, file.contentType, file.body);
  }

  private redirect(res: http.ServerResponse, location: string): void {
    res.writeHead(303, { location, 'content-length': 0 });
    res.end();
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
  }

  private plain(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    this.send(res, status, 'text/plain; charset=utf-8', text + '\n');
  }

  private send(res: http.ServerResponse, status: number, contentType: string, body: string | Buffer): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.length });
    res.end(bytes);
  }
}

/** The sign-in page when the UI is not built: the same form, unstyled (no inline style or script). */
const FALLBACK_LOGIN = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in — bank host console</title></head>
<body><main><h1>Bank host console</h1><!--notice-->
<form method="post" action="/login"><label for="token">Operator token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in</button></form></main></body></html>
`;

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** The request's body as text, or undefined when it is longer than `maxBytes`. */
async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return undefined;
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
