// The one error type of the kiosk's serial devices. A code never changes meaning; callers (the
// transaction flow, the out-of-service screen, the logs) switch on `code`, never on `message`.

export const DEVICE_ERROR_CODES = {
  // Serial plumbing
  SERIAL_OPEN_FAILED: 'the serial port could not be opened',
  SERIAL_WRITE_FAILED: 'writing to the serial port failed',
  SERIAL_WRITE_TIMEOUT: 'the serial port did not drain written bytes in time',
  SERIAL_CLOSED: 'the serial port is closed',
  SOCAT_MISSING: 'socat is not installed',
  PTY_PAIR_FAILED: 'socat did not create a pseudo-terminal pair',
  // Device state
  NOT_OPEN: 'the device driver is not open',
  BUSY: 'too many commands are already queued for the device',
  BAD_ARGUMENT: 'an argument to the driver is out of range',
  // Cash dispenser link
  DISPENSER_NO_ACK: 'the dispenser did not acknowledge a command within the retry budget',
  DISPENSER_NAK: 'the dispenser rejected a command frame within the retry budget',
  DISPENSER_NO_RESPONSE: 'the dispenser did not answer a command within the retry budget',
  DISPENSER_BAD_RESPONSE: 'the dispenser sent a response that does not parse',
  DISPENSER_REFUSED: 'the dispenser refused the command',
  DISPENSE_OUTCOME_UNKNOWN: 'a dispense may have moved notes but the dispenser cannot say what it did',
  // Receipt printer
  PRINTER_NO_RESPONSE: 'the printer did not answer a status request in time',
  PRINTER_BAD_STATUS: 'the printer sent a status byte that does not parse',
  PRINTER_OUT_OF_PAPER: 'the printer is out of paper',
  PRINTER_OFFLINE: 'the printer is offline (cover open or error)',
  // Note acceptor (ccTalk bill validator)
  NOTE_ACCEPTOR_NO_REPLY: 'the note acceptor did not answer a command within the retry budget',
  NOTE_ACCEPTOR_NAK: 'the note acceptor refused a command (NAK)',
  NOTE_ACCEPTOR_BAD_REPLY: 'the note acceptor sent a reply that does not parse',
  NOTE_ACCEPTOR_REFUSED: 'the note acceptor did not take the setting it was sent',
  NOTE_ACCEPTOR_WRONG_DEVICE: 'the device at the note acceptor address is not a bill validator',
  NOTE_ESCROW_EMPTY: 'no note is held in escrow',
  NOTE_ROUTE_FAILED: 'the note acceptor could not route the note in escrow',
  NOTE_ROUTE_OUTCOME_UNKNOWN: 'a route command may have moved the note, and no event has said where it went',
} as const;

export type DeviceErrorCode = keyof typeof DEVICE_ERROR_CODES;

export class DeviceError extends Error {
  constructor(
    readonly code: DeviceErrorCode,
    message: string = DEVICE_ERROR_CODES[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeviceError';
  }
}

export function isDeviceError(error: unknown, code?: DeviceErrorCode): error is DeviceError {
  return error instanceof DeviceError && (code === undefined || error.code === code);
}
