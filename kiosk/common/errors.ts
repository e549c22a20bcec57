// The one error hierarchy of the kiosk runtime: every error the kiosk's own code throws on purpose is a
// KioskError with a stable `code` from the table below. A code never changes meaning; callers (the UI
// handlers, the customer flows, the out-of-service screen, the logs) switch on `code`, never on `message`.
// Subclasses name where an error comes from (DeviceError, KioskConfigError, …) and narrow the codes it may
// carry. Plain TypeScript with no imports, so any kiosk folder may use it.
//
// Not here: ProtocolError (protocol/errors.ts, shared with the bank host) and the RangeErrors of pure
// functions called with impossible arguments (a bug in the caller, not a condition to handle).

export const KIOSK_ERROR_CODES = {
  // Commands from the UI (KioskCommandError): a UI bug or a race such as a double tap, never a customer error
  WRONG_STATE: 'the command is not possible now (another screen, or the kiosk is not started)',
  BAD_ARGUMENT: 'an argument is out of range or of the wrong kind',
  NOT_ON_SCREEN: 'this kiosk has a hardware PIN pad, so the on-screen one is not in use',
  // The kiosk's configuration and key file (KioskConfigError)
  CONFIG_INVALID: 'the kiosk configuration or its key file is missing or wrong',
  // The withdrawal journal (JournalCorruptError)
  JOURNAL_CORRUPT: 'a line of the kiosk journal other than the last is damaged',
  // HID boot-keyboard reports (HidReportError)
  BAD_REPORT_LENGTH: 'a HID report has the wrong length for a boot keyboard',
  BAD_REPORT_ID: 'a HID report carries a report id other than the configured one',
  // Dispenser message bodies (MessageFormatError)
  DISPENSER_MESSAGE_MALFORMED: 'a dispenser message body does not follow the documented format',
  // Serial plumbing (DeviceError)
  SERIAL_OPEN_FAILED: 'the serial port could not be opened',
  SERIAL_WRITE_FAILED: 'writing to the serial port failed',
  SERIAL_WRITE_TIMEOUT: 'the serial port did not drain written bytes in time',
  SERIAL_CLOSED: 'the serial port is closed',
  SOCAT_MISSING: 'socat is not installed',
  PTY_PAIR_FAILED: 'socat did not create a pseudo-terminal pair',
  // Device state (DeviceError)
  NOT_OPEN: 'the device driver is not open',
  BUSY: 'too many commands are already queued for the device',
  // Cash dispenser link (DeviceError)
  DISPENSER_NO_ACK: 'the dispenser did not acknowledge a command within the retry budget',
  DISPENSER_NAK: 'the dispenser rejected a command frame within the retry budget',
  DISPENSER_NO_RESPONSE: 'the dispenser did not answer a command within the retry budget',
  DISPENSER_BAD_RESPONSE: 'the dispenser sent a response that does not parse',
  DISPENSER_REFUSED: 'the dispenser refused the command',
  DISPENSE_OUTCOME_UNKNOWN: 'a dispense may have moved notes but the dispenser cannot say what it did',
  // Receipt printer (DeviceError)
  PRINTER_NO_RESPONSE: 'the printer did not answer a status request in time',
  PRINTER_BAD_STATUS: 'the printer sent a status byte that does not parse',
  PRINTER_OUT_OF_PAPER: 'the printer is out of paper',
  PRINTER_OFFLINE: 'the printer is offline (cover open or error)',
  // Note acceptor, a ccTalk bill validator (DeviceError)
  NOTE_ACCEPTOR_NO_REPLY: 'the note acceptor did not answer a command within the retry budget',
  NOTE_ACCEPTOR_NAK: 'the note acceptor refused a command (NAK)',
  NOTE_ACCEPTOR_BAD_REPLY: 'the note acceptor sent a reply that does not parse',
  NOTE_ACCEPTOR_REFUSED: 'the note acceptor did not take the setting it was sent',
  NOTE_ACCEPTOR_WRONG_DEVICE: 'the device at the note acceptor address is not a bill validator',
  NOTE_ESCROW_EMPTY: 'no note is held in escrow',
  NOTE_ROUTE_FAILED: 'the note acceptor could not route the note in escrow',
  NOTE_ROUTE_OUTCOME_UNKNOWN: 'a route command may have moved the note, and no event has said where it went',
  // Speech guidance: the headset jack and the speech synthesizer (JackReadError, SpeechError)
  JACK_UNREADABLE: "the sound card's headset jack control could not be read",
  SPEECH_UNAVAILABLE: 'espeak-ng could not be started or failed',
  PIN_PAD_NO_REPLY: 'the encrypting PIN pad did not answer a command in time',
  PIN_PAD_BAD_REPLY: 'the encrypting PIN pad answered something that is not a reply to the command',
  PIN_PAD_REFUSED: 'the encrypting PIN pad refused the command (its status says why: no key, a key block it rejects, wrong state)',
} as const;

export type KioskErrorCode = keyof typeof KIOSK_ERROR_CODES;

export class KioskError<Code extends KioskErrorCode = KioskErrorCode> extends Error {
  constructor(
    readonly code: Code,
    message: string = KIOSK_ERROR_CODES[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KioskError';
  }
}

export function isKioskError(error: unknown, code?: KioskErrorCode): error is KioskError {
  return error instanceof KioskError && (code === undefined || error.code === code);
}

/** The one way the kiosk turns a caught value into text for a log field or an out-of-service reason. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
