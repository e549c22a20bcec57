// The kiosk's one error hierarchy: every error class of the kiosk runtime is a KioskError with a stable code
// from one table, keeps its own name for logs, and `describe` is the one way to turn a caught value into text.
import test from 'ava';
import { ERROR_CODES } from '../../../protocol/errors.js';
import { describe, isKioskError, KIOSK_ERROR_CODES, KioskError, type KioskErrorCode } from '../../../kiosk/common/errors.js';
import { KioskConfigError } from '../../../kiosk/core/config.js';
import { JournalCorruptError } from '../../../kiosk/core/journal.js';
import { KioskCommandError } from '../../../kiosk/core/kiosk.js';
import { SpeechError } from '../../../kiosk/core/speech/espeak-voice.js';
import { JackReadError } from '../../../kiosk/core/speech/headset-jack.js';
import { MessageFormatError } from '../../../kiosk/devices/dispenser/messages.js';
import { HidReportError } from '../../../kiosk/devices/hid/keyboard-report.js';
import { DEVICE_ERROR_CODES, DeviceError, isDeviceError } from '../../../kiosk/devices/serial/device-error.js';

test('every kiosk error class is a KioskError with its own name and a code from the one table', (t) => {
  const errors: [KioskError, string, KioskErrorCode][] = [
    [new KioskCommandError('WRONG_STATE', 'not possible on the welcome screen'), 'KioskCommandError', 'WRONG_STATE'],
    [new KioskConfigError('kiosk.json: port: required'), 'KioskConfigError', 'CONFIG_INVALID'],
    [new JournalCorruptError('line 1 is damaged'), 'JournalCorruptError', 'JOURNAL_CORRUPT'],
    [new HidReportError('BAD_REPORT_LENGTH', 'a report of 3 bytes'), 'HidReportError', 'BAD_REPORT_LENGTH'],
    [new MessageFormatError('STATUS report too short'), 'MessageFormatError', 'DISPENSER_MESSAGE_MALFORMED'],
    [new DeviceError('PRINTER_OUT_OF_PAPER'), 'DeviceError', 'PRINTER_OUT_OF_PAPER'],
    [new JackReadError("amixer -c 1: Invalid card number '1'."), 'JackReadError', 'JACK_UNREADABLE'],
    [new SpeechError('espeak-ng exited with code 1'), 'SpeechError', 'SPEECH_UNAVAILABLE'],
  ];
  for (const [error, name, code] of errors) {
    t.true(error instanceof KioskError, name);
    t.true(error instanceof Error, name);
    t.is(error.name, name);
    t.is(error.code, code);
    t.true(Object.hasOwn(KIOSK_ERROR_CODES, error.code), `${name}: ${error.code} is in the table`);
    t.true(isKioskError(error, error.code));
  }
});

test('a device error without a message says what its code means', (t) => {
  const error = new DeviceError('NOT_OPEN');
  t.is(error.message, KIOSK_ERROR_CODES.NOT_OPEN);
  t.true(isDeviceError(error, 'NOT_OPEN'));
  t.false(isDeviceError(error, 'BUSY'));
  t.false(isDeviceError(new KioskCommandError('BAD_ARGUMENT', 'x')), 'only a DeviceError is a device error');
  for (const code of DEVICE_ERROR_CODES) t.true(Object.hasOwn(KIOSK_ERROR_CODES, code), code);
});

test('the cause of a wrapped error is kept', (t) => {
  const cause = new MessageFormatError('bad state byte 9');
  const error = new DeviceError('DISPENSER_BAD_RESPONSE', cause.message, { cause });
  t.is(error.cause, cause);
});

test('no kiosk error code is also a channel error code, so a notice code names one thing', (t) => {
  const shared = Object.keys(KIOSK_ERROR_CODES).filter((code) => Object.hasOwn(ERROR_CODES, code));
  t.deepEqual(shared, []);
});

test('describe gives an error its message and anything else as text', (t) => {
  t.is(describe(new DeviceError('BUSY', '4 dispenser commands already queued')), '4 dispenser commands already queued');
  t.is(describe(new Error('plain')), 'plain');
  t.is(describe('a string'), 'a string');
  t.is(describe(42), '42');
  t.is(describe(undefined), 'undefined');
});
