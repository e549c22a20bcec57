// The store's format, and the migration of a store written by an earlier version. Format 1 kept full PANs:
// card records under `card:<PAN>`, the customer's `cardPans`, the card's daily withdrawal totals under
// `wdday:card-<PAN>:<day>` (and those key names inside withdrawal holds' `dailyKeys`), and the PAN of a card
// sign-in's session inside its idempotency record. Format 2 keeps none (card-protection.ts): cards are
// filed under their card id, with the PAN sealed.
//
// The migration runs when the host opens a format-1 store, once. It is a resumable, idempotent sequence:
// each record is rewritten on its own (the new record put and the old one deleted in one synced batch, a
// bounded number per batch), a record already in the new form is left alone, and the format marker is
// written last. A crash part way leaves a store that opens and finishes the migration. Afterwards LevelDB
// compacts the whole key range, so the old values leave its files too.
import type { AuditedCommitter } from '../audit/event.js';
import { DAILY_WITHDRAWAL_PREFIX, HOLD_PREFIX, type HoldRecord } from '../ledger/records.js';
import type { BatchOp, KeyValueStore } from '../store/host-store.js';
import { cardIdOf, sealPan } from './card-protection.js';
import { CARD_PREFIX, CUSTOMER_PREFIX, type CardRecord, type CardRef, type CustomerRecord, panLast4 } from './records.js';

export const STORE_FORMAT_KEY = 'meta:format';
export const STORE_FORMAT = 2;
/** Records rewritten per synced batch. */
export const MIGRATION_BATCH_RECORDS = 500;

export interface StoreFormatRecord {
  readonly format: number;
  readonly sinceMs: number;
}

/** What a migration rewrote, by kind of record. */
export interface MigrationCounts {
  cards: number;
  customers: number;
  dailyTotals: number;
  holds: number;
  idempotencyRecords: number;
}

// Format 1, as it was written. The idempotency namespace is the server's (docs/protocol.md §8); a migration
// names the old layout itself rather than following today's code, which may change again.
const IDEMPOTENCY_PREFIX_V1 = 'idem:';
type CardRecordV1 = Omit<CardRecord, 'cardId' | 'panLast4' | 'panSealed'> & { readonly pan: string };
type CustomerRecordV1 = Omit<CustomerRecord, 'cards'> & { readonly cardPans: readonly string[] };
interface IdempotencyRecordV1 {
  readonly session?: { readonly customerId: string; readonly username: string; readonly cardPan?: string };
}
const CARD_DAILY_KEY_V1 = /^wdday:card-([0-9]{12,19}):(.+)$/;

export class StoreFormatError extends Error {}

interface MigrationOptions {
  readonly batchRecords?: number;
  /** Tests stop the migration part way here, as a crash would. */
  readonly afterBatch?: () => void;
}

/** Brings the store to STORE_FORMAT. Returns what was rewritten, or undefined when it already was. */
export async function migrateStore(db: KeyValueStore, committer: AuditedCommitter, master: Buffer, nowMs: number, options: MigrationOptions = {}): Promise<MigrationCounts | undefined> {
  const marker = await db.get<StoreFormatRecord>(STORE_FORMAT_KEY);
  if (marker !== undefined && marker.format === STORE_FORMAT) return undefined;
  if (marker !== undefined && marker.format > STORE_FORMAT) {
    throw new StoreFormatError(`the database is in format ${marker.format}, written by a newer bank-host; this one reads format ${STORE_FORMAT}`);
  }
  const counts: MigrationCounts = { cards: 0, customers: 0, dailyTotals: 0, holds: 0, idempotencyRecords: 0 };
  const batch = options.batchRecords ?? MIGRATION_BATCH_RECORDS;
  const cardDailyKey = (key: string): string | undefined => {
    const match = CARD_DAILY_KEY_V1.exec(key);
    return match ? `${DAILY_WITHDRAWAL_PREFIX}card-${cardIdOf(master, match[1]!)}:${match[2]}` : undefined;
  };
  const rewrite = async <T>(prefix: string, convert: (key: string, value: T) => BatchOp[] | undefined, count: keyof MigrationCounts) => {
    let from = prefix;
    for (;;) {
      const ops: BatchOp[] = [];
      let last: string | undefined;
      let seen = 0;
      for await (const [key, value] of db.entries<T>(prefix, { gte: from, limit: batch })) {
        last = key;
        seen++;
        const converted = convert(key, value);
        if (converted !== undefined) {
          ops.push(...converted);
          counts[count]++;
        }
      }
      if (ops.length > 0) {
        await committer.commit({ ops });
        options.afterBatch?.();
      }
      if (seen < batch || last === undefined) return;
      from = last + '\x00';
    }
  };

  await rewrite<CardRecordV1 | CardRecord>(CARD_PREFIX, (key, value) => {
    if (!('pan' in value) || typeof value.pan !== 'string') return undefined;
    const { pan, ...rest } = value;
    const cardId = cardIdOf(master, pan);
    const card: CardRecord = { ...rest, cardId, panLast4: panLast4(pan), panSealed: sealPan(master, cardId, pan) };
    return [{ type: 'del', key }, { type: 'put', key: CARD_PREFIX + cardId, value: card }];
  }, 'cards');

  await rewrite<CustomerRecordV1 | CustomerRecord>(CUSTOMER_PREFIX, (key, value) => {
    if (!('cardPans' in value)) return undefined;
    const { cardPans, ...rest } = value;
    const cards: CardRef[] = cardPans.map((pan) => ({ cardId: cardIdOf(master, pan), last4: panLast4(pan) }));
    const customer: CustomerRecord = { ...rest, cards };
    return [{ type: 'put', key, value: customer }];
  }, 'customers');

  await rewrite<unknown>(`${DAILY_WITHDRAWAL_PREFIX}card-`, (key, value) => {
    const renamed = cardDailyKey(key);
    return renamed === undefined ? undefined : [{ type: 'del', key }, { type: 'put', key: renamed, value }];
  }, 'dailyTotals');

  await rewrite<HoldRecord>(HOLD_PREFIX, (key, hold) => {
    const keys = [...(hold.dailyKeys ?? []), ...(hold.dailyKey !== undefined ? [hold.dailyKey] : [])];
    if (!keys.some((dailyKey) => cardDailyKey(dailyKey) !== undefined)) return undefined;
    const renamed = (dailyKey: string) => cardDailyKey(dailyKey) ?? dailyKey;
    const updated: HoldRecord = {
      ...hold,
      ...(hold.dailyKeys !== undefined && { dailyKeys: hold.dailyKeys.map(renamed) }),
      ...(hold.dailyKey !== undefined && { dailyKey: renamed(hold.dailyKey) }),
    };
    return [{ type: 'put', key, value: updated }];
  }, 'holds');

  await rewrite<IdempotencyRecordV1>(IDEMPOTENCY_PREFIX_V1, (key, record) => {
    const pan = record.session?.cardPan;
    if (pan === undefined) return undefined;
    const { cardPan: _pan, ...session } = record.session!;
    return [{ type: 'put', key, value: { ...record, session: { ...session, cardId: cardIdOf(master, pan), cardLast4: panLast4(pan) } } }];
  }, 'idempotencyRecords');

  const format: StoreFormatRecord = { format: STORE_FORMAT, sinceMs: nowMs };
  await committer.commit({ ops: [{ type: 'put', key: STORE_FORMAT_KEY, value: format }] });
  // Deleted and overwritten values stay in LevelDB's files until a compaction drops them.
  if (Object.values(counts).some((n) => n > 0)) await db.compactAll();
  return counts;
}
