// `bank-host migrate`: a stopped LevelDB host's state into an empty PostgreSQL database (host-migrate.ts),
// with progress on stderr and the summary on stdout. The target's password is a credential in the key
// folder, never an argument.
import path from 'node:path';
import { createLogger } from '../../protocol/log.js';
import { defaultHostConfig, postgresStoreConfigSchema } from '../config.js';
import { UsageError } from '../errors.js';
import { migrateToPostgres } from '../host-migrate.js';
import { openHostStore, parseStoreConnectionString, postgresStoreOptions } from '../host-store.js';
import { loadHostKeys } from '../keys.js';
import { Database } from '../store/database.js';
import { PostgresStore } from '../store/postgres/index.js';
import { parse, resolvePaths } from './arguments.js';
import type { Io } from './io.js';

export const MIGRATE_HELP = `Usage: bank-host migrate --data DIR --keys DIR --to postgresql://USER@HOST[:PORT][,HOST[:PORT]…]/DATABASE [--password-credential NAME]

Copies a stopped LevelDB host's complete state into an empty PostgreSQL database in one transaction, with
progress, and verifies the copy before it commits (the ledger check, audit verify and the keys per namespace,
each against the source's). Refuses a target that holds anything (a migration runs once). Then point the
hosts' host.json at the database: "store": { "backend": "postgresql", … } (docs/scale-out.md).
  --data DIR                  the LevelDB host's data folder (the host must be stopped)
  --keys DIR                  its key folder (default: $CREDENTIALS_DIRECTORY)
  --to URL                    the target: the cluster's nodes (the primary is found among them), the
                              application's role and its database; no password in it
  --password-credential NAME  the file in the key folder holding the role's password (default: postgres-password)`;

export async function runMigrate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: 'string' }, keys: { type: 'string' }, to: { type: 'string' }, 'password-credential': { type: 'string' } }, MIGRATE_HELP);
  if (values.help) return io.out(MIGRATE_HELP), 0;
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${MIGRATE_HELP}`);
  const paths = resolvePaths(values, io.env);
  if (!paths.dataDir || !paths.keysDir) throw new UsageError(`migrate needs --data and --keys (or $CREDENTIALS_DIRECTORY)\n\n${MIGRATE_HELP}`);
  if (typeof values.to !== 'string') throw new UsageError(`migrate needs --to postgresql://USER@HOST/DATABASE\n\n${MIGRATE_HELP}`);
  const named = parseStoreConnectionString(values.to);
  const settings = postgresStoreConfigSchema.safeParse({ backend: 'postgresql', ...named, ...(values['password-credential'] !== undefined && { passwordCredential: values['password-credential'] }), hostId: 'migrate' });
  if (!settings.success) throw new UsageError(`--password-credential: ${settings.error.issues[0]!.message}\n\n${MIGRATE_HELP}`);
  const storePaths = { dataDir: paths.dataDir, keysDir: paths.keysDir, keysFromCredentials: paths.keysFromCredentials ?? false };
  const keys = await loadHostKeys(storePaths.keysDir, { fromCredentials: storePaths.keysFromCredentials });
  const options = await postgresStoreOptions(storePaths, settings.data);
  const log = createLogger({ level: 'warn', write: io.err });
  // Opened as the host opens it (a store of an earlier format is brought up to date first); refused while a host serves it.
  const opened = await openHostStore(storePaths, defaultHostConfig(), keys, log, Date.now, { mustExist: true });
  try {
    const source = opened.store.db;
    if (!(source instanceof Database)) throw new UsageError(`${path.join(paths.dataDir)} is not a LevelDB host`);
    const target = await PostgresStore.open({ ...options, poolSize: 2 });
    try {
      const summary = await migrateToPostgres(source, target, keys, (text) => io.err(`migrate: ${text}`), Date.now());
      io.out(JSON.stringify({ ok: true, keys: summary.keys, auditRecords: summary.auditRecords, accounts: summary.ledger.accounts, postingLegs: summary.ledger.postingLegs, namespaces: summary.countsByNamespace }, null, 2));
      return 0;
    } finally {
      await target.close();
    }
  } finally {
    await opened.store.close();
  }
}
