// The error of the kiosk's serial devices: a KioskError (kiosk/common/errors.ts, where every code's meaning
// is written) limited to the codes below. Callers (the transaction flow, the out-of-service screen, the
// logs) switch on `code`, never on `message`.
import { KioskError } from '../../common/errors.js';

export const DEVICE_ERROR_CODES = [
  'SERIAL_OPEN_FAILED',
  'SERIAL_WRITE_FAILED',
  'SERIAL_WRITE_TIMEOUT',
  'SERIAL_CLOSED',
  'SOCAT_MISSING',
  'PTY_PAIR_FAILED',
  'NOT_OPEN',
  'BUSY',
  'BAD_ARGUMENT',
  'DISPENSER_NO_ACK',
  'DISPENSER_NAK',
  'DISPENSER_NO_RESPONSE',
  'DISPENSER_BAD_RESPONSE',
  'DISPENSER_REFUSED',
  'DISPENSE_OUTCOME_UNKNOWN',
  'PRINTER_NO_RESPONSE',
  'PRINTER_BAD_STATUS',
  'PRINTER_OUT_OF_PAPER',
  'PRINTER_OFFLINE',
  'NOTE_ACCEPTOR_NO_REPLY',
  'NOTE_ACCEPTOR_NAK',
  'NOTE_ACCEPTOR_BAD_REPLY',
  'NOTE_ACCEPTOR_REFUSED',
  'NOTE_ACCEPTOR_WRONG_DEVICE',
  'NOTE_ESCROW_EMPTY',
  'NOTE_ROUTE_FAILED',
  'NOTE_ROUTE_OUTCOME_UNKNOWN',
  'PIN_PAD_NO_REPLY',
  'PIN_PAD_BAD_REPLY',
  'PIN_PAD_REFUSED',
] as const;

export type DeviceErrorCode = (typeof DEVICE_ERROR_CODES)[number];

export class DeviceError extends KioskError<DeviceErrorCode> {
  constructor(code: DeviceErrorCode, message?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DeviceError';
  }
}

export function isDeviceError(error: unknown, code?: DeviceErrorCode): error is DeviceError {
  return error instanceof DeviceError && (code === undefined || error.code === code);
}
