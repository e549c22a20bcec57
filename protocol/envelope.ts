// The envelope every frame carries. Requests go kiosk → host; each response names its request id and is
// either a result or an error with a stable code.
import { randomBytes } from 'node:crypto';
import { ERROR_CODES, isErrorCode, ProtocolError, type ErrorCode } from './errors.js';
import { ERROR_MESSAGE_MAX_CHARS, PROTOCOL_VERSION, REQUEST_ID_HEX_LENGTH } from './limits.js';

export interface RequestEnvelope {
  readonly v: number;
  /** 128-bit random request id, 32 lowercase hex digits. A retry reuses it. */
  readonly id: string;
  /** Sender's clock, milliseconds since the Unix epoch. */
  readonly ts: number;
  readonly type: string;
  readonly body: unknown;
}

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
}

export type ResponseEnvelope =
  | { readonly v: number; readonly id: string; readonly ok: true; readonly result: unknown }
  | { readonly v: number; readonly id: string; readonly ok: false; readonly error: ErrorBody };

const REQUEST_ID = new RegExp(`^[0-9a-f]{${REQUEST_ID_HEX_LENGTH}}$`);
const TYPE_NAME = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/;
const MAX_TYPE_LENGTH = 64;

export function newRequestId(): string {
  return randomBytes(REQUEST_ID_HEX_LENGTH / 2).toString('hex');
}

export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

/** What a field name looks like. Error messages repeat back only names like this: anything else a sender
 *  put where a name goes (a PAN, a PIN, a key) is counted, never echoed, since messages are sent, logged
 *  and kept as idempotent answers. */
export function isFieldName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a decoded frame into a request envelope, or throws a ProtocolError naming what is wrong.
 *  When the id is readable it is attached to the error so the response can name it. */
export function parseRequestEnvelope(document: unknown): RequestEnvelope {
  if (!isPlainObject(document)) throw new ProtocolError('BAD_ENVELOPE', 'the frame is not a JSON object');
  const { v, id, ts, type, body } = document;
  if (!isRequestId(id)) throw new ProtocolError('BAD_ENVELOPE', 'id must be 32 lowercase hex digits');
  if (v !== PROTOCOL_VERSION) {
    // Only a plausible version number is repeated back: error messages are sent, logged and stored.
    const shown = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < 1_000 ? String(v) : `of type ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v}`;
    throw new ProtocolError('UNSUPPORTED_VERSION', `protocol version ${shown} is not supported; this host speaks ${PROTOCOL_VERSION}`);
  }
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts <= 0) {
    throw new ProtocolError('BAD_ENVELOPE', 'ts must be a positive integer number of milliseconds');
  }
  if (typeof type !== 'string' || type.length > MAX_TYPE_LENGTH || !TYPE_NAME.test(type)) {
    throw new ProtocolError('BAD_ENVELOPE', 'type must be a dotted lowercase name');
  }
  if (!isPlainObject(body)) throw new ProtocolError('BAD_ENVELOPE', 'body must be a JSON object');
  const extra = Object.keys(document).filter((k) => !['v', 'id', 'ts', 'type', 'body'].includes(k));
  if (extra.length > 0) {
    const name = extra[0]!;
    throw new ProtocolError('BAD_ENVELOPE', isFieldName(name) ? `unknown envelope field ${JSON.stringify(name)}` : `${extra.length} unknown envelope field${extra.length === 1 ? '' : 's'}`);
  }
  return { v, id, ts, type, body };
}

/** The request id of a document that failed to parse, if it has a well-formed one. */
export function requestIdOf(document: unknown): string | undefined {
  return isPlainObject(document) && isRequestId(document.id) ? document.id : undefined;
}

export function parseResponseEnvelope(document: unknown): ResponseEnvelope {
  if (!isPlainObject(document)) throw new ProtocolError('BAD_ENVELOPE', 'the response is not a JSON object');
  const { v, id, ok } = document;
  if (v !== PROTOCOL_VERSION) throw new ProtocolError('UNSUPPORTED_VERSION', `response version ${JSON.stringify(v)}`);
  if (typeof id !== 'string' || !(isRequestId(id) || id === '')) throw new ProtocolError('BAD_ENVELOPE', 'response id is malformed');
  if (ok === true) return { v, id, ok, result: document.result };
  if (ok === false && isPlainObject(document.error)) {
    const { code, message, retryable } = document.error;
    if (!isErrorCode(code)) throw new ProtocolError('BAD_ENVELOPE', `unknown error code ${JSON.stringify(code)}`);
    return {
      v,
      id,
      ok,
      error: { code, message: typeof message === 'string' ? message : ERROR_CODES[code], retryable: retryable === true },
    };
  }
  throw new ProtocolError('BAD_ENVELOPE', 'a response needs ok:true with result or ok:false with error');
}

export function resultResponse(id: string, result: unknown): ResponseEnvelope {
  return { v: PROTOCOL_VERSION, id, ok: true, result };
}

/** `id` is empty when the request's id could not be read. */
export function errorResponse(id: string, error: ProtocolError): ResponseEnvelope {
  const message = error.message.length <= ERROR_MESSAGE_MAX_CHARS ? error.message : `${error.message.slice(0, ERROR_MESSAGE_MAX_CHARS - 1)}…`;
  return { v: PROTOCOL_VERSION, id, ok: false, error: { code: error.code, message, retryable: error.retryable } };
}
