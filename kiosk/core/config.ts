// The kiosk's configuration file (`kiosk.json`, written by provisioning) and its K_SHARED key file.
// Parsed once, here, into typed values; every error names the field (or file) that is wrong, because the
// person reading it is a technician at a kiosk with a laptop, not the author.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { HOST_ADDRESSES_MAX, type HostEndpoint } from '../../protocol/client.js';
import { DEVICE_ID_PATTERN } from '../../protocol/limits.js';
import { KioskError } from '../common/errors.js';
import type { Language } from './ui-contract.js';
import { MAX_CASSETTES, MAX_NOTES_PER_CASSETTE } from '../devices/dispenser/messages.js';

/** Bounds on timeouts a config may set: below the minimum a customer cannot read the screen, above the
 *  maximum an abandoned session would sit open at an unattended machine. */
export const IDLE_TIMEOUT_MS_MIN = 10_000;
export const IDLE_TIMEOUT_MS_MAX = 600_000;
export const IDLE_WARNING_MS_MIN = 5_000;
/** Speech mode's inactivity timeouts by default: twice the screen's. */
export const SPEECH_IDLE_MS_DEFAULT = 120_000;
export const SPEECH_IDLE_WARNING_MS_DEFAULT = 30_000;
/** Speech mode's time to take presented notes before they are retracted, by default: twice the screen's
 *  (CASH_TAKE_TIMEOUT_MS). A listener hears "take your cash" before finding the presenter's slot by touch. */
export const SPEECH_CASH_TAKE_MS_DEFAULT = 60_000;
/** The bounds of speech mode's time to take the notes. */
export const SPEECH_CASH_TAKE_MS_MIN = 1_000;
export const SPEECH_CASH_TAKE_MS_MAX = 180_000;
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
const hostName = z.string().min(1).max(253);
const portNumber = z.number().int().min(1).max(65_535);
/** The PIN pad: an encrypting PIN pad on a serial line (production), its simulator behind a pty, or one of
 *  the demo pads (a HID keypad, its simulation, the on-screen keypad), which put the PIN's digits in the
 *  kiosk's own process and so need the explicit `demoPinEntry` setting. */
const pinPadDevice = z.union([
  hidDevice,
  z.object({ kind: z.literal('on-screen') }).strict(),
  z.object({ kind: z.literal('epp'), path: z.string().min(1), baudRate: z.number().int().positive().max(921_600).default(9600) }).strict(),
  z.object({ kind: z.literal('epp-simulated'), identityFile: z.string().min(1) }).strict(),
]);
/** PIN pad kinds whose digits pass through the kiosk's software: demo only. */
export const DEMO_PIN_PAD_KINDS: ReadonlySet<string> = new Set(['hid', 'hid-path', 'simulated', 'on-screen']);
/** Speech mode (docs/kiosk-ui.md): the headset jack it listens to; patterns from speech/headset-jack.ts. */
const speech = z
  .object({
    jack: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('alsa'),
          card: z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'an ALSA card index or id, as in /proc/asound/cards'),
          control: z.string().regex(/^[A-Za-z0-9 _-]{1,40} Jack$/, "a jack control's name, such as 'Headphone Jack'").default('Headphone Jack'),
        })
        .strict(),
      z.object({ kind: z.literal('simulated') }).strict(),
    ]),
    /** The ALSA device speech plays on: the card with the headset jack (default: the system's default). */
    device: z.string().regex(/^[A-Za-z0-9_:,=.-]{1,64}$/, "an ALSA PCM name such as 'plughw:CARD=Headphones'").optional(),
    wordsPerMinute: z.number().int().min(80).max(450).default(160),
    /** In speech mode the inactivity timeouts are these instead of `timeouts`' (a listener needs longer:
     *  each screen is heard before it is answered). */
    idleMs: z.number().int().min(IDLE_TIMEOUT_MS_MIN).max(IDLE_TIMEOUT_MS_MAX).default(SPEECH_IDLE_MS_DEFAULT),
    idleWarningMs: z.number().int().min(IDLE_WARNING_MS_MIN).max(IDLE_TIMEOUT_MS_MAX).default(SPEECH_IDLE_WARNING_MS_DEFAULT),
    /** In speech mode presented notes wait this long for the customer before they are retracted, instead
     *  of the screen's 30 s. */
    cashTakeMs: z.number().int().min(SPEECH_CASH_TAKE_MS_MIN).max(SPEECH_CASH_TAKE_MS_MAX).default(SPEECH_CASH_TAKE_MS_DEFAULT),
  })
  .strict()
  .refine((value) => value.idleWarningMs < value.idleMs, { path: ['idleWarningMs'], message: 'must be shorter than speech.idleMs' });

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
    /** One bank host… */
    host: hostName.optional(),
    port: portNumber.optional(),
    /** …or several, tried in order: the kiosk stays with the host it reached until that host fails. */
    hosts: z.array(z.object({ host: hostName, port: portNumber }).strict()).min(1).max(HOST_ADDRESSES_MAX).optional(),
    /** Path of the K_SHARED file: 64 hex characters, owner-only. Relative paths are from the config file. */
    kSharedFile: z.string().min(1),
    /** Folder of the withdrawal journal; on the kiosk a persistent, fsync-honouring filesystem. */
    journalDir: z.string().min(1),
    devices: z
      .object({
        cardReader: hidDevice,
        pinPad: pinPadDevice,
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
    /** Optional: speech guidance through a headset jack (absent: no speech mode). */
    speech: speech.optional(),
    /** The explicit demo setting: a demo PIN pad (HID keypad, on-screen keypad) with a software secure
     *  module whose identity (its X25519 key and vendor certificate) is this file. Refused by
     *  `provision check`: the digits pass through the kiosk's process. */
    demoPinEntry: z.object({ identityFile: z.string().min(1) }).strict().optional(),
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
    const single = config.host !== undefined || config.port !== undefined;
    if (single && config.hosts) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'give either host and port, or hosts, not both' });
    } else if (!config.hosts && (config.host === undefined || config.port === undefined)) {
      ctx.addIssue({ code: 'custom', path: [config.host === undefined ? 'host' : 'port'], message: 'required (or hosts: a list of { host, port })' });
    } else if (config.hosts && new Set(config.hosts.map(endpointText)).size !== config.hosts.length) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'each host address once' });
    }
    if (DEMO_PIN_PAD_KINDS.has(config.devices.pinPad.kind) && !config.demoPinEntry) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', 'pinPad'],
        message: `kind ${config.devices.pinPad.kind} puts the PIN's digits in the kiosk's software: use an encrypting PIN pad ({ "kind": "epp", "path": … }), or set demoPinEntry for a demonstration`,
      });
    }
    if (config.timeouts.idleWarningMs >= config.timeouts.idleMs) {
      ctx.addIssue({ code: 'custom', path: ['timeouts', 'idleWarningMs'], message: 'must be shorter than timeouts.idleMs' });
    }
  });

export type KioskConfig = z.infer<typeof kioskConfigSchema>;

/** `host:port`, with an IPv6 address in brackets. */
export const endpointText = (endpoint: HostEndpoint): string => (endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`);

/** The bank hosts this kiosk may use, in the order it tries them. */
export function hostEndpoints(config: Pick<KioskConfig, 'host' | 'port' | 'hosts'>): HostEndpoint[] {
  if (config.hosts) return config.hosts.map(({ host, port }) => ({ host, port }));
  return [{ host: config.host!, port: config.port! }];
}
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
  const pinPad = config.devices.pinPad.kind === 'epp-simulated' ? { ...config.devices.pinPad, identityFile: path.resolve(base, config.devices.pinPad.identityFile) } : config.devices.pinPad;
  return {
    ...config,
    kSharedFile: path.resolve(base, config.kSharedFile),
    journalDir: path.resolve(base, config.journalDir),
    devices: { ...config.devices, pinPad },
    ...(config.demoPinEntry && { demoPinEntry: { identityFile: path.resolve(base, config.demoPinEntry.identityFile) } }),
  };
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
