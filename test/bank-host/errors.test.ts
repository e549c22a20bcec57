import test from 'ava';
import { ProtocolError } from '../../protocol/errors.js';
import {
  AdminError,
  AuditError,
  DatabaseLockedError,
  describe,
  DeviceRegistryError,
  errorCode,
  HOST_ERROR_CODES,
  HostError,
  KeyError,
  LedgerInvariantError,
  UsageError,
} from '../../bank-host/errors.js';

test('every error class of the host is a HostError whose code is listed with its meaning', (t) => {
  const errors = [
    new AdminError('UNKNOWN_CUSTOMER', 'no customer is named bob'),
    new DeviceRegistryError('DEVICE_EXISTS', 'device kiosk-01 already exists'),
    new AuditError('AUDIT_DECRYPT_FAILED', 'audit record 3 does not decrypt'),
    new LedgerInvariantError('customer account acc_1 is overdrawn'),
    new KeyError('key file master.key is missing'),
    new DatabaseLockedError('/var/lib/bank-host/db'),
    new UsageError('--kind must be chequing or savings'),
  ];
  for (const error of errors) {
    t.true(error instanceof HostError, error.name);
    t.true(Object.hasOwn(HOST_ERROR_CODES, error.code), `${error.name}: ${error.code} is listed`);
  }
  t.deepEqual(
    errors.map((error) => error.name),
    ['AdminError', 'DeviceRegistryError', 'AuditError', 'LedgerInvariantError', 'KeyError', 'DatabaseLockedError', 'UsageError'],
  );
});

test('an operator error may reuse a channel code, and carries a code relayed from the host unchanged', (t) => {
  t.is(new AdminError('USERNAME_TAKEN', 'alice is taken').code, 'USERNAME_TAKEN');
  t.is(new AdminError('SOME_FUTURE_CODE', 'relayed').code, 'SOME_FUTURE_CODE');
});

test('describe gives the message and the stable code, and names an error without a code by its class', (t) => {
  t.is(describe(new AdminError('UNKNOWN_CUSTOMER', 'no customer is named bob')), 'no customer is named bob [UNKNOWN_CUSTOMER]');
  t.is(describe(new ProtocolError('INSUFFICIENT_FUNDS')), 'the available balance is too low [INSUFFICIENT_FUNDS]');
  t.is(describe(Object.assign(new Error("EEXIST: file already exists, open 'x'"), { code: 'EEXIST' })), "EEXIST: file already exists, open 'x' [EEXIST]");
  t.is(describe(new Error('host.json: not valid JSON')), 'host.json: not valid JSON');
  t.is(describe(new TypeError('x is not a function')), 'TypeError: x is not a function');
  t.is(describe('a thrown string'), 'a thrown string');
  t.is(errorCode(new KeyError('bad')), 'KEY_ERROR');
  t.is(errorCode(new Error('plain')), undefined);
  t.is(errorCode(undefined), undefined);
});
