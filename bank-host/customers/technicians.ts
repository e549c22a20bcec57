// Technicians and their cards. A technician's card is a card like a customer's (a PAN filed under its keyed
// hash, a PIN kept as a verification value, blocked after too many wrong PINs, blocked and unblocked by an
// operator by its PAN) with the `supervisor` role: its PIN opens the kiosk's supervisor mode, for
// replenishment and balancing, and no customer operation. An operator issues one with
// `bank-host technician add NAME` (audited as `technician.add`); its PAN and PIN are shown once.
import { randomBytes } from 'node:crypto';
import { AdminError } from '../errors.js';
import { type OperatorServices, runOperatorAction } from '../audit/operator-action.js';
import { invariant } from '../ledger/invariants.js';
import type { KeyValueStore } from '../store/host-store.js';
import { cardIdOf, sealPan } from './card-protection.js';
import { expiryFor, generatePan } from './cards.js';
import { isValidUsername, readCard } from './customers.js';
import { generatePin, pinVerificationValue } from './pins.js';
import { type CardRecord, type CardRef, cardKey, panLast4 } from './records.js';

const TECHNICIAN_ID_RANDOM_BYTES = 8;
/** Random PANs that collide with an issued card are drawn again, this many times at most. */
const PAN_DRAWS_MAX = 8;

export interface TechnicianRecord {
  /** `tch_` and 16 hex digits: the holder every card of this technician names. */
  readonly technicianId: string;
  /** Named like a username (3-32 of a-z 0-9 . _ -): what the kiosk's supervisor screens and receipts show. */
  readonly name: string;
  readonly cards: readonly CardRef[];
  readonly createdMs: number;
}

export const TECHNICIAN_PREFIX = 'tech:';
export const TECHNICIAN_NAME_PREFIX = 'techname:';
export const technicianKey = (technicianId: string): string => `${TECHNICIAN_PREFIX}${technicianId}`;
export const technicianNameKey = (name: string): string => `${TECHNICIAN_NAME_PREFIX}${name}`;
const newTechnicianId = (): string => `tch_${randomBytes(TECHNICIAN_ID_RANDOM_BYTES).toString('hex')}`;

export async function readTechnician(db: Pick<KeyValueStore, 'get'>, technicianId: string): Promise<TechnicianRecord | undefined> {
  const technician = await db.get<TechnicianRecord>(technicianKey(technicianId));
  if (technician !== undefined) invariant(technician.technicianId === technicianId, `technician record ${technicianId} is misfiled`);
  return technician;
}

export const isSupervisorCard = (card: Pick<CardRecord, 'role'>): boolean => card.role === 'supervisor';

export interface IssuedTechnicianCard {
  readonly technicianId: string;
  readonly name: string;
  /** Shown once, to hand to the technician; the host keeps only a verification value. */
  readonly pan: string;
  readonly pin: string;
  readonly expiresYm: string;
}

/** Creates a technician named `name` and issues their supervisor card. A name already taken is refused:
 *  a technician has one card, blocked by its PAN when lost (then a new technician entry is made). */
export async function addTechnician(services: OperatorServices, name: string): Promise<IssuedTechnicianCard> {
  return runOperatorAction(services, 'technician.add', async (run) => {
    run.facts.detail = { name: name.slice(0, 64) };
    if (!isValidUsername(name)) throw new AdminError('BAD_USERNAME', 'a technician name is 3-32 of a-z 0-9 . _ -, starting with a letter or digit');
    for (let draw = 0; draw < PAN_DRAWS_MAX; draw++) {
      const pan = generatePan();
      const cardId = cardIdOf(services.keys.master, pan);
      const issued = await services.locks.withLocks([technicianNameKey(name), cardKey(cardId)], async () => {
        if ((await services.db.get(technicianNameKey(name))) !== undefined) throw new AdminError('USERNAME_TAKEN', `a technician is already named ${name}`);
        if ((await readCard(services.db, cardId)) !== undefined) return undefined;
        const nowMs = services.now();
        const technicianId = newTechnicianId();
        const pin = generatePin();
        const card: CardRecord = {
          cardId,
          panLast4: panLast4(pan),
          panSealed: sealPan(services.keys.master, cardId, pan),
          customerId: technicianId,
          role: 'supervisor',
          accountIds: [],
          expiresYm: expiryFor(nowMs),
          status: 'active',
          pinVerificationValue: pinVerificationValue(services.keys.pinVerify, pan, pin),
          pinTriesFailed: 0,
          issuedMs: nowMs,
        };
        const technician: TechnicianRecord = { technicianId, name, cards: [{ cardId, last4: card.panLast4 }], createdMs: nowMs };
        run.facts.customerId = technicianId;
        run.facts.detail = { name, technicianId, cardLast4: card.panLast4, role: 'supervisor' };
        await run.commit([
          { type: 'put', key: cardKey(cardId), value: card },
          { type: 'put', key: technicianKey(technicianId), value: technician },
          { type: 'put', key: technicianNameKey(name), value: { technicianId } },
        ]);
        return { technicianId, name, pan, pin, expiresYm: card.expiresYm };
      });
      if (issued !== undefined) return issued;
    }
    throw new Error(`no free card number after ${PAN_DRAWS_MAX} draws; the demo number range is exhausted`);
  });
}
