// Host settings that shape customer operations. Loaded from `host.json` in the data folder (or defaults);
// every field is validated against documented bounds (docs/ledger.md, "Host settings"), and money is in
// cents.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { parseVendorCas, type VendorCa } from '../protocol/pin-key-delivery.js';

/** The largest amount any setting may name: $10,000,000,000.00. Tests and benchmarks use limits this high
 *  to take limits out of the way; a real bank's are far lower. */
export const SETTING_CENTS_MAX = 1_000_000_000_000;
const DAY_MS = 24 * 3_600_000;
const cents = z.number().int().positive().max(SETTING_CENTS_MAX);

// Where the host keeps its state (docs/scale-out.md): LevelDB in the data folder (the default), or a
// PostgreSQL cluster named by its nodes' addresses or by a connection string. The password is never here:
// `passwordCredential` names a file in the key folder (systemd's credentials directory under systemd).
/** Nodes a host may be given: a Patroni cluster has three or five. */
export const STORE_ADDRESSES_MAX = 16;
/** The host's default for idleInTransactionTimeoutMs: the store's (a live host keeps its units from looking
 *  idle however long their work takes, so this bounds only how long a lost machine's locks outlive it). */
export const STORE_IDLE_IN_TRANSACTION_MS_DEFAULT = 1_000;
const credentialName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a file name of letters, digits, ".", "_" and "-" (at most 64)');
/** PostgreSQL identifiers the host connects with: plain ones only, so they need no quoting anywhere. */
const postgresName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case PostgreSQL name (letters, digits, "_"; at most 63)');
const postgresAddress = z
  .object({
    host: z.string().min(1).max(253).regex(/^[A-Za-z0-9.:_-]+$/, 'a host name or IP address'),
    port: z.number().int().min(1).max(65_535).default(5432),
  })
  .strict();
export const postgresStoreConfigSchema = z
  .object({
    backend: z.literal('postgresql'),
    /** The cluster's nodes: the host finds the primary among them, and finds it again after a failover. */
    addresses: z.array(postgresAddress).min(1).max(STORE_ADDRESSES_MAX).optional(),
    database: postgresName.optional(),
    user: postgresName.optional(),
    /** Instead of addresses, database and user: `postgresql://user@node1:5432,node2:5432/database` (no
     *  password in it: the password is a credential). */
    connectionString: z.string().max(2_048).optional(),
    /** The file in the key folder (or $CREDENTIALS_DIRECTORY) holding the password. */
    passwordCredential: credentialName.default('postgres-password'),
    /** Names this host's connections (lane ids, the audit chains, pg_stat_activity): unique per host
     *  process on the cluster; default the machine's name. */
    hostId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).optional(),
    poolSize: z.number().int().min(1).max(128).optional(),
    /** The most units of work (requests) one transaction carries when they wait for lanes: the group commit
     *  (store/postgres/commit-group.ts); 1 turns it off. */
    groupCommitUnits: z.number().int().min(1).max(32).optional(),
    /** Connections of `poolSize` that requests run on at once while the group commit is on (more wait to
     *  join a group); the rest serve reads and password sign-ins. */
    groupCommitLanes: z.number().int().min(1).max(128).optional(),
    connectTimeoutMs: z.number().int().min(500).max(60_000).optional(),
    queryTimeoutMs: z.number().int().min(1_000).max(120_000).optional(),
    lockTimeoutMs: z.number().int().min(100).max(60_000).optional(),
    /** How long a unit of work may sit idle inside its transaction before PostgreSQL ends it: how long a
     *  lost host machine's locks outlive it (a live host keeps its units alive while their work runs). */
    idleInTransactionTimeoutMs: z.number().int().min(1_000).max(60_000).default(STORE_IDLE_IN_TRANSACTION_MS_DEFAULT),
  })
  .strict()
  .superRefine((value, ctx) => {
    const parts = value.addresses !== undefined || value.database !== undefined || value.user !== undefined;
    if (value.connectionString !== undefined && parts) ctx.addIssue({ code: 'custom', message: 'give either connectionString or addresses, database and user, not both' });
    if (value.connectionString === undefined && (value.addresses === undefined || value.database === undefined || value.user === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'the postgresql backend needs addresses, database and user (or a connectionString)' });
    }
  });
export const storeConfigSchema = z.union([z.object({ backend: z.literal('leveldb') }).strict(), postgresStoreConfigSchema]);
export type StoreConfig = z.infer<typeof storeConfigSchema>;
export type PostgresStoreConfig = z.infer<typeof postgresStoreConfigSchema>;

export const hostConfigSchema = z
  .object({
    currency: z.string().regex(/^[A-Z]{3}$/).default('CAD'),
    /** Whether kiosks may register new customers (demo: on; production default: off). */
    registrationEnabled: z.boolean().default(false),
    maxWithdrawalCents: cents.default(100_000),
    /** Per customer per UTC day, whatever credentials they use. */
    dailyWithdrawalLimitCents: cents.default(100_000),
    /** Per card per UTC day, on top of the customer's limit. */
    cardDailyWithdrawalLimitCents: cents.default(100_000),
    /** Deposits: per customer per UTC day, the first this much is available at once... */
    depositImmediateCentsPerDay: z.number().int().min(0).max(SETTING_CENTS_MAX).default(20_000),
    /** ...and the rest after this long, or when an operator releases it. */
    depositHoldMs: z.number().int().min(0).max(30 * DAY_MS).default(2 * DAY_MS),
    /** The most a customer may deposit per UTC day. */
    depositDailyCapCents: cents.default(500_000),
    sessionIdleTimeoutMs: z.number().int().min(10_000).max(3_600_000).default(120_000),
    /** A hold with neither completion nor reversal after this long is listed for an operator. */
    holdAttentionAfterMs: z.number().int().positive().max(30 * DAY_MS).default(30 * 60_000),
    maxPinTries: z.number().int().min(1).max(10).default(3),
    /** Idempotency records are kept this long; a retry after that is a new request. */
    idempotencyRetentionMs: z.number().int().min(60_000).max(365 * DAY_MS).default(7 * DAY_MS),
    // The fleet (docs/operations.md). A kiosk reports at least every 30 s (its heartbeat); with no report
    // for this long it is offline. Never below two heartbeats, so one late report does not flap it.
    kioskOfflineAfterMs: z.number().int().min(60_000).max(DAY_MS).default(90_000),
    /** Low cash: a cassette holding fewer notes than this (0: not by notes)... */
    lowCashNotesPerCassette: z.number().int().min(0).max(100_000).default(100),
    /** ...or the cassettes holding less than this in all (0: not by value). A kiosk may have its own. */
    lowCashCents: z.number().int().min(0).max(SETTING_CENTS_MAX).default(0),
    /** A cashbox holding at least this share of its capacity is nearly full. */
    cashboxNearlyFullPercent: z.number().int().min(50).max(100).default(90),
    /** A deposit a kiosk opened and has not committed after this long needs a person. */
    openDepositAttentionAfterMs: z.number().int().min(60_000).max(30 * DAY_MS).default(30 * 60_000),
    /** The branch whose vault replenishes this host's kiosks, and whose over/short account takes the
     *  differences their counts find (docs/ledger.md): accounts `vault-<branchId>`, `overshort-<branchId>`. */
    branchId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a branch id is 1-32 of a-z 0-9 -, starting with a letter or digit').default('main'),
    /** The operator console: a session ends this long after sign-in... */
    consoleSessionMaxMs: z.number().int().min(5 * 60_000).max(DAY_MS).default(8 * 3_600_000),
    /** ...or after this long without a request. */
    consoleSessionIdleMs: z.number().int().min(60_000).max(8 * 3_600_000).default(30 * 60_000),
    /** Where the state is kept (see storeConfigSchema). */
    store: storeConfigSchema.default({ backend: 'leveldb' }),
  })
  .strict();

export type HostConfig = z.infer<typeof hostConfigSchema>;

export const HOST_CONFIG_FILE = 'host.json';

/** Settings earlier versions wrote into host.json that no longer mean anything, with why. They are
 *  dropped with a notice rather than refused, so an upgraded host starts on its old host.json. */
export const RETIRED_SETTINGS: Readonly<Record<string, string>> = {
  smallestNoteCents: 'withdrawals are checked against the notes each kiosk reports it holds',
};

export function defaultHostConfig(overrides: Partial<HostConfig> = {}): HostConfig {
  return hostConfigSchema.parse(overrides);
}

export interface LoadedHostConfig {
  readonly config: HostConfig;
  /** Retired settings found and ignored, for the log. */
  readonly notices: readonly string[];
}

/** The EPP vendors' certificate authorities the host trusts (protocol/pin-key-delivery.ts), one
 *  `atm-epp-ca v1 VENDOR HEX` a line, in `epp-vendor-cas` beside host.json. Public keys, so not secret; but
 *  whoever may write the file may enroll a PIN pad of their making, so it is held to host.json's rules. No
 *  file: no vendor is trusted, and no kiosk can receive a PIN key. */
export const EPP_VENDOR_CAS_FILE = 'epp-vendor-cas';
const EPP_VENDOR_CAS_BYTES_MAX = 64 * 1024;

export async function loadEppVendorCas(dataDir: string): Promise<VendorCa[]> {
  const file = path.join(dataDir, EPP_VENDOR_CAS_FILE);
  try {
    await requireTrustedConfigFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const text = await readFile(file, 'utf8');
  if (text.length > EPP_VENDOR_CAS_BYTES_MAX) throw new Error(`${file} is larger than a list of vendor CAs`);
  try {
    return parseVendorCas(text);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/** host.json sets the host's limits (withdrawals, deposits, PIN tries): whoever may write it may raise them.
 *  So it must be a regular file, owned by the host's user (or root), and writable by no one else. */
async function requireTrustedConfigFile(file: string): Promise<void> {
  const info = await stat(file);
  if (!info.isFile()) throw new Error(`${file} is not a regular file`);
  if ((info.mode & 0o022) !== 0) {
    const who = [(info.mode & 0o020) !== 0 && 'its group', (info.mode & 0o002) !== 0 && 'others'].filter(Boolean).join(' and ');
    throw new Error(`${file} is writable by ${who} (mode ${(info.mode & 0o777).toString(8)}), who could change ${path.basename(file) === HOST_CONFIG_FILE ? "the host's limits" : 'which PIN pads the host trusts'}; run \`chmod go-w ${file}\``);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid && info.uid !== 0) {
    throw new Error(`${file} belongs to uid ${info.uid}, not to the host's user (uid ${uid}) or root; run \`chown ${uid} ${file}\``);
  }
}

export async function loadHostConfig(dataDir: string): Promise<LoadedHostConfig> {
  const file = path.join(dataDir, HOST_CONFIG_FILE);
  let text: string;
  try {
    await requireTrustedConfigFile(file);
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { config: defaultHostConfig(), notices: [] };
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const notices: string[] = [];
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const settings = { ...(json as Record<string, unknown>) };
    for (const [name, why] of Object.entries(RETIRED_SETTINGS)) {
      if (Object.hasOwn(settings, name)) {
        delete settings[name];
        notices.push(`${file}: ${name} is no longer used (${why}); remove it`);
      }
    }
    json = settings;
  }
  const parsed = hostConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { config: parsed.data, notices };
}
