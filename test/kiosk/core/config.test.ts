// kiosk.json validation and the K_SHARED key file: every error names the field or file at fault.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { endpointText, hostEndpoints, KioskConfigError, loadKioskConfig, loadKShared, parseKioskConfig } from '../../../kiosk/core/config.js';
import { KioskController } from '../../../kiosk/core/kiosk.js';

const valid = {
  deviceId: 'kiosk-lobby-1',
  host: 'bank.example',
  port: 7443,
  kSharedFile: 'k_shared',
  journalDir: 'journal',
  devices: {
    cardReader: { kind: 'hid', vendorId: 0x0801, productId: 0x0002 },
    pinPad: { kind: 'epp', path: '/dev/atm/pin-pad' },
    dispenser: { kind: 'serial', path: '/dev/atm/dispenser', baudRate: 9600 },
    printer: { kind: 'serial', path: '/dev/atm/printer' },
  },
  cassettes: [
    { denominationCents: 2_000, count: 500 },
    { denominationCents: 5_000, count: 200 },
  ],
};

test('a complete configuration parses, with defaults for timeouts, languages, fast cash and baud rate', (t) => {
  const config = parseKioskConfig(valid);
  t.is(config.timeouts.idleMs, 60_000);
  t.deepEqual(config.languages, ['en', 'fr']);
  t.deepEqual(config.fastCashCents, [2_000, 4_000, 6_000, 10_000, 20_000]);
  t.deepEqual(config.devices.printer, { kind: 'serial', path: '/dev/atm/printer', baudRate: 9600 });
  t.is(config.devices.noteAcceptor, undefined, 'a kiosk without a note acceptor takes no deposits');
});

test('a note acceptor: its port, the notes it takes (the five Canadian notes unless said) and its cashbox size', (t) => {
  const config = parseKioskConfig({ ...valid, devices: { ...valid.devices, noteAcceptor: { kind: 'serial', path: '/dev/atm/note-acceptor' } } });
  t.deepEqual(config.devices.noteAcceptor, { kind: 'serial', path: '/dev/atm/note-acceptor', baudRate: 9600 });
  t.deepEqual(config.noteAcceptorCents, [500, 1_000, 2_000, 5_000, 10_000]);
  t.is(config.cashboxCapacityNotes, 1_000);
  const simulated = parseKioskConfig({ ...valid, devices: { ...valid.devices, noteAcceptor: { kind: 'simulated' } }, noteAcceptorCents: [2_000, 5_000], cashboxCapacityNotes: 600 });
  t.deepEqual(simulated.noteAcceptorCents, [2_000, 5_000]);
  t.is(simulated.cashboxCapacityNotes, 600);
});

test('an encrypting PIN pad is the production PIN pad; a demo pad needs the explicit demo setting', (t) => {
  t.deepEqual(parseKioskConfig(valid).devices.pinPad, { kind: 'epp', path: '/dev/atm/pin-pad', baudRate: 9600 });
  t.is(parseKioskConfig(valid).demoPinEntry, undefined);
  for (const pinPad of [{ kind: 'hid', vendorId: 0x05a4, productId: 0x9759 }, { kind: 'hid-path', path: '/dev/hidraw3' }, { kind: 'simulated' }, { kind: 'on-screen' }]) {
    const error = t.throws(() => parseKioskConfig({ ...valid, devices: { ...valid.devices, pinPad } }, 'kiosk.json'), { instanceOf: KioskConfigError });
    t.regex(error?.message ?? '', new RegExp(`devices\\.pinPad: kind ${pinPad.kind} puts the PIN's digits in the kiosk's software`));
    const demo = parseKioskConfig({ ...valid, devices: { ...valid.devices, pinPad }, demoPinEntry: { identityFile: 'epp-identity' } });
    t.is(demo.devices.pinPad.kind as string, pinPad.kind);
  }
  t.throws(() => parseKioskConfig({ ...valid, demoPinEntry: {} }), { message: /demoPinEntry\.identityFile/ });
  t.throws(() => parseKioskConfig({ ...valid, devices: { ...valid.devices, pinPad: { kind: 'epp' } } }), { message: /devices\.pinPad/ });
});

test('errors name the field that is wrong', (t) => {
  const cases: [unknown, RegExp][] = [
    [{ ...valid, port: 70_000 }, /port:/],
    [{ ...valid, deviceId: 'Kiosk_1' }, /deviceId: 3-63 of a-z/],
    [{ ...valid, devices: { ...valid.devices, cardReader: { kind: 'hid', vendorId: 0x1_0000, productId: 1 } } }, /devices\.cardReader\.vendorId/],
    [{ ...valid, devices: { ...valid.devices, dispenser: { kind: 'usb' } } }, /devices\.dispenser\.kind/],
    [{ ...valid, cassettes: [] }, /cassettes:/],
    [{ ...valid, cassettes: [{ denominationCents: 20.5, count: 1 }] }, /cassettes\.0\.denominationCents/],
    [{ ...valid, timeouts: { idleMs: 30_000, idleWarningMs: 30_000 } }, /timeouts\.idleWarningMs: must be shorter/],
    [{ ...valid, extra: true }, /Unrecognized key/],
    [{ ...valid, noteAcceptorCents: [2_000, 2_000] }, /noteAcceptorCents: each note once/],
    [{ ...valid, noteAcceptorCents: [] }, /noteAcceptorCents:/],
    [{ ...valid, noteAcceptorCents: [150_000] }, /noteAcceptorCents\.0/],
    [{ ...valid, devices: { ...valid.devices, noteAcceptor: { kind: 'serial' } } }, /devices\.noteAcceptor\.path/],
  ];
  for (const [document, message] of cases) {
    const error = t.throws(() => parseKioskConfig(document, 'kiosk.json'), { instanceOf: KioskConfigError });
    t.regex(error?.message ?? '', message);
    t.true(error?.message.startsWith('kiosk.json: '));
  }
});

test('loadKioskConfig resolves relative paths from the file and names unreadable or bad JSON files', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'kiosk.json');
  await writeFile(file, JSON.stringify(valid));
  const config = await loadKioskConfig(file);
  t.is(config.kSharedFile, path.join(dir, 'k_shared'));
  t.is(config.journalDir, path.join(dir, 'journal'));
  await writeFile(file, '{ not json');
  await t.throwsAsync(loadKioskConfig(file), { message: new RegExp(`^${file}: not valid JSON`) });
  await t.throwsAsync(loadKioskConfig(path.join(dir, 'missing.json')), { message: /cannot read the kiosk configuration \(ENOENT\)/ });
});

test('the key file must be owner-only and exactly 64 hex characters', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-key-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'k_shared');
  const hex = 'ab'.repeat(32);
  await writeFile(file, `${hex}\n`, { mode: 0o600 });
  t.deepEqual(await loadKShared(file), Buffer.from(hex, 'hex'));
  await chmod(file, 0o640);
  await t.throwsAsync(loadKShared(file), { message: /permissions 640 let others read it; run: chmod 600/ });
  await chmod(file, 0o600);
  await writeFile(file, 'ab'.repeat(31), { mode: 0o600 });
  await t.throwsAsync(loadKShared(file), { message: /exactly 64 hex characters/ });
  await t.throwsAsync(loadKShared(path.join(dir, 'nope')), { message: /kSharedFile .*nope: cannot read the key file \(ENOENT\)/ });
});

test('KioskController.fromConfigFile reads kiosk.json and its key file, and refuses a readable key', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiosk-from-file-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'kiosk.json'), JSON.stringify(valid));
  await writeFile(path.join(dir, 'k_shared'), 'cd'.repeat(32), { mode: 0o600 });
  t.true((await KioskController.fromConfigFile(path.join(dir, 'kiosk.json'))) instanceof KioskController);
  await chmod(path.join(dir, 'k_shared'), 0o644);
  await t.throwsAsync(KioskController.fromConfigFile(path.join(dir, 'kiosk.json')), { instanceOf: KioskConfigError });
});

test('several bank hosts: a list tried in order, instead of host and port; both forms or neither refused', (t) => {
  const { host: _h, port: _p, ...withoutHost } = valid;
  const hosts = [{ host: 'bank-a.example', port: 7443 }, { host: '2001:db8::5', port: 7443 }];
  const config = parseKioskConfig({ ...withoutHost, hosts });
  t.deepEqual(hostEndpoints(config), hosts);
  t.is(endpointText(hosts[1]!), '[2001:db8::5]:7443');
  t.deepEqual(hostEndpoints(parseKioskConfig(valid)), [{ host: 'bank.example', port: 7443 }]);
  const cases: [unknown, RegExp][] = [
    [{ ...valid, hosts }, /hosts: give either host and port, or hosts, not both/],
    [withoutHost, /host: required \(or hosts/],
    [{ ...withoutHost, host: 'bank.example' }, /port: required/],
    [{ ...withoutHost, hosts: [] }, /hosts:/],
    [{ ...withoutHost, hosts: [hosts[0], hosts[0]] }, /hosts: each host address once/],
    [{ ...withoutHost, hosts: Array.from({ length: 9 }, (_, i) => ({ host: `bank-${i}.example`, port: 7443 })) }, /hosts:/],
    [{ ...withoutHost, hosts: [{ host: 'bank.example', port: 0 }] }, /hosts\.0\.port/],
    [{ ...withoutHost, hosts: [{ host: 'bank.example', port: 7443, weight: 2 }] }, /Unrecognized key/],
  ];
  for (const [document, expected] of cases) {
    const error = t.throws(() => parseKioskConfig(document), { instanceOf: KioskConfigError });
    t.regex(error.message, expected);
  }
});
