// The kiosk's configuration file (`kiosk.json`, written by provisioning) and its K_SHARED key file.
// Parsed once, here, into typed values; every error names the field (or file) that is wrong, because the
// person reading it is a technician at a kiosk with a laptop, not the author.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DEVICE_ID_PATTERN } from '../../protocol/limits.js';
import { KioskError } from '../common/errors.js';
import type { Language } from './ui-contract.js';
import { MAX_CASSETTES, MAX_NOTES_PER_CASSETTE } from '../devices/dispenser/messages.js';

/** Bounds on timeouts a config may set: below the minimum a customer cannot read the screen, above the
 *  maximum an abandoned session would sit open at an unattended machine. */
export const IDLE_TIMEOUT_MS_MIN = 10_000;
export const IDLE_TIMEOUT_MS_MAX = 600_000;
export const IDLE_WARNING_MS_MIN = 5_000;
export const GOODBYE_SCREEN_MS_MAX = 60_000;
export const FAST_CASH_AMOUNTS_MAX = 8;
/** The notes a Canadian kiosk's acceptor takes unless its configuration says otherwise. */
export const DEFAULT_NOTE_ACCEPTOR_CENTS = [500, 1_000, 2_000, 5_000, 10_000] as const;
/** Denominations one acceptor may take (the protocol's DENOMINATIONS_MAX). */
export const NOTE_ACCEPTOR_DENOMINATIONS_MAX = 16;
/** The largest note any kiosk handles: $1,000.00 (the protocol's DENOMINATION_MAX_CENTS). */
export const NOTE_CENTS_MAX = 100_000;
/** A cashbox holds a few thousand notes at most; the status report bounds it at 100,000. */
export const CASHBOX_CAPACITY_NOTES_MAX = 100_000;
export const KEY_FILE_HEX_CHARS = 64;
export const KIOSK_CONFIG_FILE = 'kiosk.json';
/** Every language the UI speaks (ui-contract.ts), in the default order of a kiosk that names none. */
const LANGUAGES = ['en', 'fr'] as const satisfies readonly Language[];

const usbId = z.number().int().min(0).max(0xffff);
const hidDevice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hid'), vendorId: usbId, productId: usbId, reportId: z.number().int().min(0).max(255).optional() }).strict(),
  z.object({ kind: z.literal('hid-path'), path: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('simulated') }).strict(),
]);
const serialDevice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('serial'), path: z.string().min(1), baudRate: z.number().int().positive().max(921_600).default(9600) }).strict(),
  z.object({ kind: z.literal('simulated') }).strict(),
]);
const cents = z.number().int().positive().max(100_000_000);

/** A receipt line is 32 to 48 characters wide. */
export const RECEIPT_BANK_NAME_CHARS_MAX = 32;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const kioskConfigSchema = z
  .object({
    deviceId: z.string().regex(DEVICE_ID_PATTERN, '3-63 of a-z 0-9 and -, starting with a letter or digit (the id the bank host enrolled)'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535),
    /** Path of the K_SHARED file: 64 hex characters, owner-only. Relative paths are from the config file. */
    kSharedFile: z.string().min(1),
    /** Folder of the withdrawal journal; on the kiosk a persistent, fsync-honouring filesystem. */
    journalDir: z.string().min(1),
    devices: z
      .object({
        cardReader: hidDevice,
        pinPad: z.union([hidDevice, z.object({ kind: z.literal('on-screen') }).strict()]),
        dispenser: serialDevice,
        printer: serialDevice,
        /** Optional: a kiosk without a note acceptor takes no deposits. */
        noteAcceptor: serialDevice.optional(),
      })
      .strict(),
    cassettes: z
      .array(z.object({ denominationCents: cents, count: z.number().int().min(0).max(MAX_NOTES_PER_CASSETTE) }).strict())
      .min(1)
      .max(MAX_CASSETTES),
    fastCashCents: z.array(cents).max(FAST_CASH_AMOUNTS_MAX).default([2_000, 4_000, 6_000, 10_000, 20_000]),
    /** The notes the acceptor takes (checked at start against the notes it reports it knows). */
    noteAcceptorCents: z
      .array(z.number().int().positive().max(NOTE_CENTS_MAX))
      .min(1)
      .max(NOTE_ACCEPTOR_DENOMINATIONS_MAX)
      .refine((list) => new Set(list).size === list.length, 'each note once')
      .default([...DEFAULT_NOTE_ACCEPTOR_CENTS]),
    /** Notes the acceptor's cashbox holds when full (reported to the host with its count). */
    cashboxCapacityNotes: z.number().int().positive().max(CASHBOX_CAPACITY_NOTES_MAX).default(1_000),
    timeouts: z
      .object({
        /** No touch or key for this long ends the customer's session. */
        idleMs: z.number().int().min(IDLE_TIMEOUT_MS_MIN).max(IDLE_TIMEOUT_MS_MAX).default(60_000),
        /** The "are you still there?" warning shows this long before the end. */
        idleWarningMs: z.number().int().min(IDLE_WARNING_MS_MIN).max(IDLE_TIMEOUT_MS_MAX).default(15_000),
        goodbyeMs: z.number().int().min(0).max(GOODBYE_SCREEN_MS_MAX).default(5_000),
      })
      .strict()
      .default({}),
    languages: z.array(z.enum(LANGUAGES)).min(1).max(LANGUAGES.length).default([...LANGUAGES]),
    /** The bank's name at the top of every receipt. */
    bankName: z.string().trim().min(1).max(RECEIPT_BANK_NAME_CHARS_MAX).regex(/^[\x20-\x7e]+$/, 'printable ASCII (the printer has no other font)').default('Northbank'),
    /** The kiosk's time zone (IANA name), for the local time on receipts; the system's by default. */
    timeZone: z
      .string()
      .refine((zone) => isTimeZone(zone), 'an IANA time zone such as America/Toronto')
      .default(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.timeouts.idleWarningMs >= config.timeouts.idleMs) {
      ctx.addIssue({ code: 'custom', path: ['timeouts', 'idleWarningMs'], message: 'must be shorter than timeouts.idleMs' });
    }
  });

export type KioskConfig = z.infer<typeof kioskConfigSchema>;
export type KioskConfigInput = z.input<typeof kioskConfigSchema>;
export type { Language };

/** Names the file and the field that is wrong, for a technician to fix. */
export class KioskConfigError extends KioskError<'CONFIG_INVALID'> {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'KioskConfigError';
  }
}

/** Validates an already-parsed document; `source` names it in errors. */
export function parseKioskConfig(document: unknown, source = KIOSK_CONFIG_FILE): KioskConfig {
  const parsed = kioskConfigSchema.safeParse(document);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new KioskConfigError(`${source}: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** Reads and validates `kiosk.json`; relative kSharedFile and journalDir are resolved from its folder. */
export async function loadKioskConfig(file: string): Promise<KioskConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new KioskConfigError(`${file}: cannot read the kiosk configuration (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new KioskConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const config = parseKioskConfig(document, file);
  const base = path.dirname(file);
  return { ...config, kSharedFile: path.resolve(base, config.kSharedFile), journalDir: path.resolve(base, config.journalDir) };
}

/** Reads K_SHARED: exactly 64 hex characters (a trailing newline allowed), in a file no one but its
 *  owner may read or write, since anyone who reads it can impersonate this kiosk to the bank. */
export async function loadKShared(file: string): Promise<Buffer> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    throw new KioskConfigError(`kSharedFile ${file}: cannot read the key file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new KioskConfigError(`kSharedFile ${file}: permissions ${(mode & 0o777).toString(8)} let others read it; run: chmod 600 ${file}`);
  }
  const text = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  if (text.length !== KEY_FILE_HEX_CHARS || !/^[0-9a-fA-F]+$/.test(text)) {
    throw new KioskConfigError(`kSharedFile ${file}: must hold exactly ${KEY_FILE_HEX_CHARS} hex characters`);
  }
  return Buffer.from(text, 'hex');
}
