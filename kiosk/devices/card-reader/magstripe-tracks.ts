// ISO/IEC 7813 financial card tracks as a keyboard-mode reader types them, parsed into typed values.
//
//   track 1 (IATA, ≤ 79 chars): %B<PAN ≤19>^<NAME 2..26>^<YYMM><service code 3><discretionary>?
//   track 2 (ABA,  ≤ 40 chars): ;<PAN ≤19>=<YYMM><service code 3><discretionary>?
//
// A reader types the tracks it read in order (1, 2, then 3 on three-head readers), each with its
// sentinels, then Enter. A track it could not read is typed as its start sentinel, 'E', '?' (`%E?`).
import { CARD_PAN_DIGITS_MAX, CARD_PAN_DIGITS_MIN, isLuhnValid } from './primary-account-number.js';

export const TRACK1_MAX_CHARS = 79;
export const TRACK2_MAX_CHARS = 40;
/** Track 3 (ISO/IEC 4909) is read by some readers; we ignore its content but accept its presence. */
export const TRACK3_MAX_CHARS = 107;
const TRACK_ERROR_MARK = 'E';

/** Stable reason codes of a rejected swipe; the UI and logs key on them, so they never change meaning. */
export const BAD_SWIPE_REASONS = [
  'garbled', // the text is not track 1/track 2 structure (truncated, a missing sentinel, a bad field)
  'no-track-data', // no readable track (only error marks, or nothing before Enter)
  'pan-mismatch', // track 1 and track 2 carry different card numbers
  'track-mismatch', // track 1 and track 2 carry different expiry dates
  'bad-luhn', // the card number fails its check digit
  'bad-expiry', // the expiry month is not 01..12
  'expired', // the card expired before the current month
  'too-long', // more characters than any real swipe before Enter
  'timeout', // the reader stopped typing in the middle of a swipe
  'bad-report', // the device sent a report that is not a boot keyboard report
] as const;

export type BadSwipeReason = (typeof BAD_SWIPE_REASONS)[number];

export interface CardExpiry {
  /** Four-digit year: ISO 7813 YY is read as 20YY. */
  year: number;
  /** 1..12 */
  month: number;
}

export interface CardData {
  pan: string;
  /** Cardholder name from track 1 as encoded (`SURNAME/GIVEN`), absent without track 1. */
  name?: string;
  expiry: CardExpiry;
}

export type SwipeParseResult = { ok: true; card: CardData } | { ok: false; reason: BadSwipeReason };

interface TrackFields {
  pan: string;
  expiryYy: number;
  expiryMm: number;
  name?: string;
}

const PAN_PATTERN = `([0-9]{${CARD_PAN_DIGITS_MIN},${CARD_PAN_DIGITS_MAX}})`;
/** The track 1 alphabet (ISO/IEC 7811-2: 0x20..0x5F) without its reserved sentinels and separator
 *  (% ? ^). Lowercase does not exist on track 1, so a lowercase character means a misread. */
const TRACK1_TEXT_CLASS = '[\\x20-\\x24\\x26-\\x3E\\x40-\\x5D\\x5F]';
const TRACK1_PATTERN = new RegExp(
  `^%B${PAN_PATTERN}\\^(${TRACK1_TEXT_CLASS}{2,26})\\^([0-9]{2})([0-9]{2})[0-9]{3}${TRACK1_TEXT_CLASS}*\\?$`,
);
const TRACK2_PATTERN = new RegExp(`^;${PAN_PATTERN}=([0-9]{2})([0-9]{2})[0-9]{3}[0-9]*\\?$`);

function parseTrack1(track: string): TrackFields | undefined {
  if (track.length > TRACK1_MAX_CHARS) return undefined;
  const match = TRACK1_PATTERN.exec(track);
  if (!match) return undefined;
  const [, pan, rawName, yy, mm] = match;
  const name = rawName!.trim();
  return { pan: pan!, expiryYy: Number(yy), expiryMm: Number(mm), ...(name && name !== '/' ? { name } : {}) };
}

function parseTrack2(track: string): TrackFields | undefined {
  if (track.length > TRACK2_MAX_CHARS) return undefined;
  const match = TRACK2_PATTERN.exec(track);
  if (!match) return undefined;
  const [, pan, yy, mm] = match;
  return { pan: pan!, expiryYy: Number(yy), expiryMm: Number(mm) };
}

/** Splits the typed text into sentinel-delimited tracks: track 1 (if first and starting with '%'),
 *  then track 2 (';'), then an optional track 3 that is ignored. */
function splitTracks(text: string): { track1?: string; track2?: string } | undefined {
  const segments: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    if (!'%;+'.includes(rest[0]!)) return undefined;
    const end = rest.indexOf('?');
    if (end < 0) return undefined; // truncated: a start sentinel without its end sentinel
    segments.push(rest.slice(0, end + 1));
    rest = rest.slice(end + 1);
    if (segments.length > 3) return undefined;
  }
  const tracks: { track1?: string; track2?: string } = {};
  let index = 0;
  if (segments[index]?.startsWith('%')) tracks.track1 = segments[index++];
  if (segments[index]?.startsWith(';')) tracks.track2 = segments[index++];
  const track3 = segments[index];
  if (track3 !== undefined) {
    if (track3.startsWith('%') || track3.length > TRACK3_MAX_CHARS || index === 0) return undefined;
    index++;
  }
  return index === segments.length ? tracks : undefined;
}

function isErrorMark(track: string | undefined): boolean {
  return track !== undefined && track.length === 3 && track[1] === TRACK_ERROR_MARK;
}

/** Parses everything a reader typed before Enter and checks it as a card this kiosk can accept. */
export function parseSwipe(text: string, now: Date): SwipeParseResult {
  const tracks = splitTracks(text);
  if (!tracks) return { ok: false, reason: text.length === 0 ? 'no-track-data' : 'garbled' };
  const raw1 = isErrorMark(tracks.track1) ? undefined : tracks.track1;
  const raw2 = isErrorMark(tracks.track2) ? undefined : tracks.track2;
  if (raw1 === undefined && raw2 === undefined) return { ok: false, reason: 'no-track-data' };

  const track1 = raw1 === undefined ? undefined : parseTrack1(raw1);
  const track2 = raw2 === undefined ? undefined : parseTrack2(raw2);
  // A track that was typed but does not parse makes the whole swipe suspect: ask for another swipe
  // rather than trust the other track of a misread.
  if ((raw1 !== undefined && !track1) || (raw2 !== undefined && !track2)) return { ok: false, reason: 'garbled' };

  if (track1 && track2) {
    if (track1.pan !== track2.pan) return { ok: false, reason: 'pan-mismatch' };
    if (track1.expiryYy !== track2.expiryYy || track1.expiryMm !== track2.expiryMm) return { ok: false, reason: 'track-mismatch' };
  }
  // Track 2 is the track the networks authorize on; track 1 contributes the name.
  const fields = (track2 ?? track1)!;
  if (!isLuhnValid(fields.pan)) return { ok: false, reason: 'bad-luhn' };
  if (fields.expiryMm < 1 || fields.expiryMm > 12) return { ok: false, reason: 'bad-expiry' };
  const expiry: CardExpiry = { year: 2000 + fields.expiryYy, month: fields.expiryMm };
  if (isExpired(expiry, now)) return { ok: false, reason: 'expired' };
  const name = track1?.name;
  return { ok: true, card: { pan: fields.pan, ...(name ? { name } : {}), expiry } };
}

/** A card is valid through the last day of its expiry month. Months are compared in UTC: the kiosk's
 *  clock is UTC, and the bank host applies its own check at authorization. */
export function isExpired(expiry: CardExpiry, now: Date): boolean {
  const currentMonths = now.getUTCFullYear() * 12 + now.getUTCMonth();
  const expiryMonths = expiry.year * 12 + (expiry.month - 1);
  return currentMonths > expiryMonths;
}
