// Who may watch the fleet: operators of the console and of the metrics endpoint, each with a token. A
// token is `bho_` and 32 random bytes (base64url), shown once by `bank-host operator add` and stored only
// as its SHA-256 (a random 256-bit token needs no salt or slow hash: nothing can be guessed from its
// hash). Checking one hashes it and compares with every live token's hash in constant time, looking at
// all of them whatever matches. Revoking a token ends it at once, and the console's sessions made with it.
// Records: `optok:<name>`; a revoked one stays (revoked) for the record, and the name can be given a new
// token later. Every change is audited (`operator.add`, `operator.revoke`), never with the token.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type OperatorServices, runOperatorAction } from '../audit/operator-action.js';
import { AdminError } from '../errors.js';

export const OPERATOR_PREFIX = 'optok:';
export const operatorKey = (name: string): string => `${OPERATOR_PREFIX}${name}`;
export const OPERATOR_NAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;
/** Live tokens at most: each check compares against all of them. */
export const OPERATORS_MAX = 256;
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^bho_[A-Za-z0-9_-]{43}$/;

export interface OperatorRecord {
  readonly name: string;
  /** SHA-256 of the token, hex. */
  readonly tokenSha256: string;
  readonly status: 'active' | 'revoked';
  readonly createdMs: number;
  readonly revokedMs?: number;
}

/** What anyone may see of an operator: never the token or its hash. */
export interface OperatorSummary {
  readonly name: string;
  readonly status: 'active' | 'revoked';
  readonly createdMs: number;
  readonly revokedMs?: number;
}

/** Whose token a request carried, and which token (a session made with a token ends when it is revoked
 *  or replaced). */
export interface OperatorIdentity {
  readonly name: string;
  readonly tokenSha256: string;
}

const summarize = (record: OperatorRecord): OperatorSummary => ({
  name: record.name,
  status: record.status,
  createdMs: record.createdMs,
  ...(record.revokedMs !== undefined && { revokedMs: record.revokedMs }),
});

export const tokenSha256 = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export class OperatorTokens extends EventEmitter<{ revoked: [name: string] }> {
  private readonly records = new Map<string, OperatorRecord>();

  private constructor(private readonly services: OperatorServices) {
    super();
  }

  static async load(services: OperatorServices): Promise<OperatorTokens> {
    const tokens = new OperatorTokens(services);
    for await (const [, record] of services.db.entries<OperatorRecord>(OPERATOR_PREFIX)) tokens.records.set(record.name, record);
    return tokens;
  }

  list(): OperatorSummary[] {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name)).map(summarize);
  }

  /** Creates a token for `name`; the only time the token exists outside the operator's hands. */
  add(name: string): Promise<{ operator: OperatorSummary; token: string }> {
    return runOperatorAction(this.services, 'operator.add', async (run) => {
      if (!OPERATOR_NAME.test(name)) throw new AdminError('BAD_OPERATOR_NAME', 'an operator name is 2-32 of a-z 0-9 . _ -, starting with a letter or digit');
      run.facts.detail = { operator: name };
      return this.services.locks.withLocks([operatorKey(name)], async () => {
        if (this.records.get(name)?.status === 'active') throw new AdminError('OPERATOR_EXISTS', `operator ${name} already has a token; revoke it first`);
        const live = [...this.records.values()].filter((r) => r.status === 'active').length;
        if (live >= OPERATORS_MAX) throw new AdminError('TOO_MANY_OPERATORS', `the host keeps at most ${OPERATORS_MAX} live operator tokens`);
        const token = `bho_${randomBytes(TOKEN_BYTES).toString('base64url')}`;
        const record: OperatorRecord = { name, tokenSha256: tokenSha256(token), status: 'active', createdMs: this.services.now() };
        await run.commit([{ type: 'put', key: operatorKey(name), value: record }]);
        this.records.set(name, record);
        return { operator: summarize(record), token };
      });
    });
  }

  revoke(name: string): Promise<OperatorSummary> {
    return runOperatorAction(this.services, 'operator.revoke', async (run) => {
      if (OPERATOR_NAME.test(name)) run.facts.detail = { operator: name };
      return this.services.locks.withLocks([operatorKey(name)], async () => {
        const record = this.records.get(name);
        if (record === undefined || record.status !== 'active') throw new AdminError('UNKNOWN_OPERATOR', `no operator ${JSON.stringify(name)} holds a live token`);
        const revoked: OperatorRecord = { ...record, status: 'revoked', revokedMs: this.services.now() };
        await run.commit([{ type: 'put', key: operatorKey(name), value: revoked }]);
        this.records.set(name, revoked);
        this.emit('revoked', name);
        return summarize(revoked);
      });
    });
  }

  /** The operator whose live token this is, or undefined. Compares against every live token in constant
   *  time; a string that is not shaped like a token is refused before any hashing. */
  verify(token: string): OperatorIdentity | undefined {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const presented = Buffer.from(tokenSha256(token), 'hex');
    let found: OperatorRecord | undefined;
    for (const record of this.records.values()) {
      if (record.status !== 'active') continue;
      const stored = Buffer.from(record.tokenSha256, 'hex');
      if (stored.length === presented.length && timingSafeEqual(stored, presented)) found = record;
    }
    return found === undefined ? undefined : { name: found.name, tokenSha256: found.tokenSha256 };
  }

  /** Whether `identity`'s token is still the operator's live one (not revoked, not replaced). */
  isCurrent(identity: OperatorIdentity): boolean {
    const record = this.records.get(identity.name);
    return record !== undefined && record.status === 'active' && record.tokenSha256 === identity.tokenSha256;
  }
}
