// Which of the cluster's nodes is the primary. The host is given every node's address and connects only to
// the one that accepts writes (`pg_is_in_recovery()` is false), as libpq's target_session_attrs=read-write
// would (`pg` takes one address per connection). When the connection to it fails, it is forgotten and the
// next connection asks every node again, so after a failover the host finds the promoted standby.
import pg from 'pg';
import { PostgresStoreError } from './errors.js';

export interface PostgresAddress {
  readonly host: string;
  readonly port: number;
}

export const addressText = (a: PostgresAddress) => `${a.host}:${a.port}`;

/** After a search that found no primary, searches within this long fail at once with the same error, so a
 *  burst of requests during a failover costs one search, not one per request. */
export const PRIMARY_SEARCH_RETRY_MS = 250;

export interface PrimaryProbe {
  /** Connects to one node and tells whether it accepts writes; throws when it does not answer. */
  (address: PostgresAddress): Promise<boolean>;
}

export interface PrimarySearchResult {
  readonly primary: PostgresAddress | undefined;
  /** What each node answered, for the error message and the store's stats. */
  readonly answers: readonly string[];
}

export class PrimaryFinder {
  private primary: PostgresAddress | undefined;
  private search: Promise<PostgresAddress> | undefined;
  private lastFailure: { readonly atMs: number; readonly error: PostgresStoreError } | undefined;
  /** Searches made, and how many of them changed the primary. */
  readonly stats = { searches: 0, changes: 0 };

  constructor(
    readonly addresses: readonly PostgresAddress[],
    private readonly probe: PrimaryProbe,
    /** Called with the addresses that did not answer as primary in a search: connections to them are stale. */
    private readonly onNotPrimary: (addresses: readonly PostgresAddress[]) => void,
    private readonly now: () => number = Date.now,
  ) {
    if (addresses.length === 0) throw new TypeError('the store needs at least one PostgreSQL address');
  }

  /** The primary as last found, without searching. */
  get known(): PostgresAddress | undefined {
    return this.primary;
  }

  /** The primary, searching for it when it is not known. */
  async current(): Promise<PostgresAddress> {
    if (this.primary !== undefined) return this.primary;
    if (this.lastFailure !== undefined && this.now() - this.lastFailure.atMs < PRIMARY_SEARCH_RETRY_MS) throw this.lastFailure.error;
    this.search ??= this.find().finally(() => (this.search = undefined));
    return this.search;
  }

  /** A connection to `address` failed or found it read-only: forget it unless another search already
   *  replaced it. */
  lost(address: PostgresAddress): void {
    if (this.primary !== undefined && addressText(this.primary) === addressText(address)) this.primary = undefined;
  }

  private async find(): Promise<PostgresAddress> {
    this.stats.searches++;
    const probes = this.addresses.map(async (address) => {
      try {
        return { address, writable: await this.probe(address), why: '' };
      } catch (error) {
        return { address, writable: false, why: error instanceof Error ? error.message : String(error) };
      }
    });
    // The first node to answer as primary ends the search: a dead node (whose probe waits for the connect
    // timeout) must not hold up a failover. During a failover two nodes may briefly both answer so (the old
    // one not yet demoted); in strict synchronous mode the old one cannot acknowledge a commit, so a unit of
    // work sent there fails by its timeout and is retried.
    const found = await new Promise<PostgresAddress | undefined>((resolve) => {
      for (const probe of probes) void probe.then((answer) => answer.writable && resolve(answer.address));
      void Promise.all(probes).then(() => resolve(undefined));
    });
    // Once every node has answered: connections to the ones that are not the primary are stale.
    void Promise.all(probes).then((answers) => {
      const stale = answers.filter((a) => found === undefined || addressText(a.address) !== addressText(found)).map((a) => a.address);
      if (stale.length > 0) this.onNotPrimary(stale);
    });
    if (found === undefined) {
      const answers = await Promise.all(probes);
      const description = answers.map((a) => `${addressText(a.address)} ${a.why === '' ? 'standby' : `unreachable (${a.why})`}`).join(', ');
      const error = new PostgresStoreError('STORE_UNAVAILABLE', `no PostgreSQL primary among ${this.addresses.length} nodes: ${description}`);
      this.lastFailure = { atMs: this.now(), error };
      throw error;
    }
    this.lastFailure = undefined;
    if (this.primary === undefined || addressText(this.primary) !== addressText(found)) this.stats.changes++;
    this.primary = found;
    return found;
  }
}

/** The probe the store uses: a short-lived connection with the store's credentials and connect timeout. */
export function connectionProbe(config: pg.ClientConfig, timeoutMs: number): PrimaryProbe {
  return async (address) => {
    const client = new pg.Client({ ...config, host: address.host, port: address.port, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
    client.on('error', () => {
      // A failure after connecting surfaces as the query's rejection below.
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
      return rows[0]?.recovery === false;
    } finally {
      client.end().catch(() => {});
    }
  };
}
