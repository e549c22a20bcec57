// The PostgreSQL store's public surface (docs/scale-out.md): the store, its unit of work, its errors and
// its named bounds.
export { PostgresStore, GET_MANY_KEYS_MAX, SCAN_IDLE_TIMEOUT_MS, type EntriesOptions, type PostgresStoreOptions, type PostgresStoreStats, type UnitOfWorkOptions } from './store.js';
export { UnitOfWork, LOCKS_PER_UNIT_MAX, PREFETCH_KEYS_MAX, lockId, type LockRequest } from './unit-of-work.js';
export { PostgresStoreError, POSTGRES_STORE_ERROR_CODES, isRetryableStoreError, type PostgresStoreErrorCode } from './errors.js';
export {
  ACQUIRE_TIMEOUT_MS_DEFAULT,
  CLOSE_GRACE_MS,
  CONNECT_TIMEOUT_MS_DEFAULT,
  IDLE_IN_TRANSACTION_TIMEOUT_MS_DEFAULT,
  LOCK_TIMEOUT_MS_DEFAULT,
  POOL_SIZE_DEFAULT,
  POOL_SIZE_MAX,
  POOL_WAITERS_MAX_DEFAULT,
  QUERY_TIMEOUT_MS_DEFAULT,
} from './lanes.js';
export { PRIMARY_SEARCH_RETRY_MS, type PostgresAddress } from './primary.js';
export { BATCH_OPS_MAX, KEY_BYTES_MAX, VALUE_BYTES_MAX } from './rows.js';
export { SCAN_PAGE_ROWS } from './queries.js';
export { SCHEMA_VERSION } from './schema.js';
