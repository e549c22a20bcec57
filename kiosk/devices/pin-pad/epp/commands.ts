// The EPP's command set (docs/devices.md "Encrypting PIN pad"), modelled on the serial EPPs of ATMs: the
// kiosk identifies the pad, relays the host's key exchange and key block, starts PIN entry (the pad reports
// each key as '*', never its digit), and asks for the PIN block under the loaded PEK. Outside PIN entry
// the pad may report keys in clear for menus. Every reply starts with a status byte.

/** Commands, kiosk → pad. A reply carries the command's code with the top bit set. */
export const EPP_COMMAND = {
  IDENTIFY: 0x49, // 'I' → vendor, serial, firmware (ASCII, space-separated)
  GET_CERTIFICATE: 0x43, // 'C' → the pad's certificate (ASCII)
  KBPK_EXCHANGE: 0x58, // 'X' device id length, device id, host ephemeral X25519 key (32) → KBPK KCV (10 ASCII)
  LOAD_KEY_BLOCK: 0x4c, // 'L' key block (ASCII) → PEK KCV (10 ASCII), PEK version (4, big-endian)
  KCV_QUERY: 0x56, // 'V' → PEK KCV (10 ASCII), PEK version (4); NO_KEY when none
  START_PIN_ENTRY: 0x50, // 'P' min digits, max digits
  GET_PIN_BLOCK: 0x47, // 'G' PAN (ASCII digits) → PIN block (16): ends the entry
  ABORT_PIN_ENTRY: 0x41, // 'A' ends the entry, digits forgotten
  CLEAR_TEXT_MODE: 0x54, // 'T' 1 on, 0 off: keys reported in clear (refused during PIN entry)
  ZEROIZE: 0x5a, // 'Z' forgets the KBPK and PEK (the identity stays)
} as const;

export type EppCommandCode = (typeof EPP_COMMAND)[keyof typeof EPP_COMMAND];
export const EPP_COMMAND_CODES: ReadonlySet<number> = new Set(Object.values(EPP_COMMAND));
export const REPLY_BIT = 0x80;
/** The pad's reply to a frame it could not read (bad CRC, length or ETX): SEQ as received. */
export const EPP_FRAME_ERROR = 0xff;
/** Unsolicited events, pad → kiosk, SEQ 0. */
export const EPP_EVENT = {
  /** During PIN entry: key (one ASCII byte), digit count. */
  PIN_KEY: 0x4b, // 'K'
  /** In clear-text mode: the key (one ASCII byte). */
  CLEAR_KEY: 0x55, // 'U'
} as const;

export const EPP_STATUS = {
  OK: 0x00,
  BAD_FRAME: 0x01,
  UNKNOWN_COMMAND: 0x02,
  BAD_DATA: 0x03,
  WRONG_STATE: 0x04,
  NO_KEY: 0x05,
  KEY_REJECTED: 0x06,
  KCV_MISMATCH: 0x07,
  NO_EXCHANGE: 0x08,
} as const;

export type EppStatusName = keyof typeof EPP_STATUS;
export function statusName(code: number): EppStatusName | undefined {
  return (Object.keys(EPP_STATUS) as EppStatusName[]).find((name) => EPP_STATUS[name] === code);
}

/** Key events during PIN entry: '*' a digit (never which), then the count of digits held. */
export const PIN_KEY = {
  DIGIT: 0x2a, // '*'
  CORRECT: 0x52, // 'R': every digit cleared (the yellow key)
  CANCEL: 0x43, // 'C': the customer gave up; the entry ended
  ENTER: 0x45, // 'E': accepted; the entry waits for GET_PIN_BLOCK
  TOO_SHORT: 0x53, // 'S': Enter with fewer than the minimum; the digits stay
  IGNORED: 0x4d, // 'M': a digit past the maximum, not kept
} as const;

/** Keys in clear-text mode: digits '0'-'9', Enter 'E', Cancel 'C', Correct 'R', function keys 'a'-'h' (F1-F8). */
export type ClearTextKey = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | 'enter' | 'cancel' | 'correct' | `F${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8}`;

export function clearTextKeyOf(byte: number): ClearTextKey | undefined {
  if (byte >= 0x30 && byte <= 0x39) return String.fromCharCode(byte) as ClearTextKey;
  if (byte === 0x45) return 'enter';
  if (byte === 0x43) return 'cancel';
  if (byte === 0x52) return 'correct';
  if (byte >= 0x61 && byte <= 0x68) return `F${byte - 0x60}` as ClearTextKey;
  return undefined;
}

export function clearTextKeyByte(key: ClearTextKey): number {
  if (key.length === 1) return key.charCodeAt(0);
  if (key === 'enter') return 0x45;
  if (key === 'cancel') return 0x43;
  if (key === 'correct') return 0x52;
  return 0x60 + Number(key.slice(1));
}

export const KCV_CHARS = 10;

export function encodeKcvReply(kcv: string, version: number): Buffer {
  const out = Buffer.alloc(KCV_CHARS + 4);
  out.write(kcv, 0, 'ascii');
  out.writeUInt32BE(version, KCV_CHARS);
  return out;
}

export function decodeKcvReply(data: Buffer): { kcv: string; version: number } | undefined {
  if (data.length !== KCV_CHARS + 4) return undefined;
  const kcv = data.subarray(0, KCV_CHARS).toString('ascii');
  if (!/^[0-9A-F]{10}$/.test(kcv)) return undefined;
  return { kcv, version: data.readUInt32BE(KCV_CHARS) };
}

export function encodeExchange(deviceId: string, ephemeralPublicKey: Buffer): Buffer {
  const id = Buffer.from(deviceId, 'ascii');
  return Buffer.concat([Buffer.from([id.length]), id, ephemeralPublicKey]);
}

export function decodeExchange(data: Buffer): { deviceId: string; ephemeralPublicKey: Buffer } | undefined {
  const length = data[0];
  if (length === undefined || data.length !== 1 + length + 32) return undefined;
  const deviceId = data.subarray(1, 1 + length).toString('ascii');
  if (!/^[a-z0-9][a-z0-9-]{2,62}$/.test(deviceId)) return undefined;
  return { deviceId, ephemeralPublicKey: Buffer.from(data.subarray(1 + length)) };
}
