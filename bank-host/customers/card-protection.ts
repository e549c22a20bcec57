// Card numbers at rest: the host's store holds no full PAN. A card is filed under its card id, a keyed hash
// of the PAN (HMAC-SHA-256, truncated to 128 bits), which is how a sign-in or an operator finds it from the
// PAN they hold; the PAN itself is kept only sealed (AES-256-GCM, bound to its card id) for the day it is
// needed again (re-filing cards under a new index key, a dispute); people see the last four digits.
//
// Both keys are derived from the host master key (HKDF-SHA-256, each with its own label), so they live
// where the master key lives, outside the database, and no new key file has to be installed. A PAN has few
// unknown digits (a known issuer prefix and a check digit leave nine here): an unkeyed hash would fall to
// whoever copies the database; this one needs the key too. (docs/ledger.md, "Cards and PANs at rest".)
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const INDEX_LABEL = 'atm-kiosk/card-index/v1';
const SEAL_LABEL = 'atm-kiosk/card-pan-seal/v1';
const SEAL_AAD_PREFIX = 'atm-kiosk/card-pan/v1|';
const KEY_BYTES = 32;
const CARD_ID_HEX_DIGITS = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const CARD_ID_PATTERN = /^crd_[0-9a-f]{32}$/;

interface CardKeys {
  readonly index: Buffer;
  readonly seal: Buffer;
}

// Derived once per master key: a sign-in files its card by id, and HKDF need not run for each.
const derived = new WeakMap<Buffer, CardKeys>();

function cardKeys(master: Buffer): CardKeys {
  let keys = derived.get(master);
  if (keys === undefined) {
    const derive = (label: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), label, KEY_BYTES));
    keys = { index: derive(INDEX_LABEL), seal: derive(SEAL_LABEL) };
    derived.set(master, keys);
  }
  return keys;
}

/** The id a card is filed under: `crd_` and 32 hex digits of HMAC-SHA-256(card index key, PAN). */
export function cardIdOf(master: Buffer, pan: string): string {
  return `crd_${createHmac('sha256', cardKeys(master).index).update(pan, 'utf8').digest('hex').slice(0, CARD_ID_HEX_DIGITS)}`;
}

/** The PAN sealed for its card record: base64 of IV ‖ tag ‖ AES-256-GCM ciphertext, with the card id as
 *  associated data, so a sealed PAN copied into another card's record no longer opens. */
export function sealPan(master: Buffer, cardId: string, pan: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', cardKeys(master).seal, iv);
  cipher.setAAD(Buffer.from(SEAL_AAD_PREFIX + cardId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(pan, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

/** The PAN of a card record. Throws when the sealed value was changed, moved from another card, or sealed
 *  under another master key. */
export function openSealedPan(master: Buffer, cardId: string, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length <= IV_BYTES + TAG_BYTES) throw new Error(`the sealed PAN of card ${cardId} is malformed`);
  const decipher = createDecipheriv('aes-256-gcm', cardKeys(master).seal, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(SEAL_AAD_PREFIX + cardId, 'utf8'));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`the sealed PAN of card ${cardId} does not open under this master key`);
  }
}
