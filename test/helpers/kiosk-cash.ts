// What a test kiosk tells the host of its cash, and deposits of counted notes, for tests of other things:
// a kiosk reports its status before it serves anyone, and a deposit is notes, never a typed amount.
import type { KioskStatus, NoteCount, ResultOf } from '../../protocol/messages.js';

/** The notes the test kiosk's acceptor takes: down to $1 so that tests can deposit any whole number of
 *  dollars (a real Canadian kiosk takes $5 and up). */
export const TEST_ACCEPTED_CENTS = [100, 500, 1_000, 2_000, 5_000, 10_000] as const;

/** A kiosk in service with $20 and $50 cassettes, a note acceptor, paper, and nothing pending. */
export function testKioskStatus(overrides: Partial<KioskStatus> = {}): KioskStatus {
  return {
    softwareVersion: '0.1.0-test',
    inService: true,
    reasons: [],
    devices: [],
    cassettes: [
      { denominationCents: 2_000, count: 2_000 },
      { denominationCents: 5_000, count: 2_000 },
    ],
    noteAcceptor: { denominationsCents: [...TEST_ACCEPTED_CENTS], cashbox: [], cashboxCapacityNotes: 2_000 },
    receiptPaper: 'ok',
    pendingTransactions: 0,
    ...overrides,
  };
}

/** `cents` as notes the test kiosk takes, largest first. */
export function notesFor(cents: number): NoteCount[] {
  if (!Number.isSafeInteger(cents) || cents <= 0 || cents % 100 !== 0) throw new Error(`a test deposit is a positive whole number of dollars, not ${cents} cents`);
  const notes: NoteCount[] = [];
  let left = cents;
  for (const denominationCents of [...TEST_ACCEPTED_CENTS].sort((a, b) => b - a)) {
    const count = Math.floor(left / denominationCents);
    if (count > 0) notes.push({ denominationCents, count });
    left -= count * denominationCents;
  }
  return notes;
}

/** Anything that sends a request and answers its result (a ChannelClient, the dispatcher harness). */
export type Requester = <T extends 'kiosk.status' | 'deposit.open' | 'deposit.commit'>(type: T, body: unknown) => Promise<ResultOf<T>>;

/** Opens a deposit into `accountId` and commits `cents` of notes: what a kiosk does when a customer
 *  deposits. */
export async function depositNotes(request: Requester, accountId: string, cents: number): Promise<ResultOf<'deposit.commit'>> {
  const opened = await request('deposit.open', { accountId });
  return request('deposit.commit', { depositId: opened.depositId, notes: notesFor(cents) });
}
