// The kiosk's USB allowlist (/etc/usbguard/rules.conf, written by provisioning/lockdown.ts), held to
// USBGuard's own parser and to its documented rule semantics, without USB hardware.
//
// What is proven: every rule in the file parses with usbguard-rule-parser (USBGuard 1.1's own parser, from
// Debian's usbguard package) and comes back unchanged, so the daemon reads exactly the rules we wrote;
// and, evaluated the way usbguard-rules.conf(5) specifies (the first rule that matches decides; `id` must
// equal; `with-interface match-all { … }`: every interface of the device must match one of the patterns;
// no match: ImplicitPolicyTarget=block), a USB keyboard, a memory stick, a network adapter and devices
// that copy an allowed id while offering a keyboard interface are blocked, and the kiosk's own devices and
// hubs are allowed. The devices are described by their USB ids and interface triplets (class:subclass:
// protocol), as `usbguard list-devices` shows real ones.
// What is not proven here: the daemon's decision on real hardware (its device manager needs the kernel's
// uevents, which cannot be simulated without USB), nor what the device reports about itself (a hostile
// device can copy ids and interface classes; a copy of the PIN pad or card reader id gets through USBGuard,
// and udev's 70-atm-kiosk.rules then hides its key events from the compositor: see units.test.ts).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseKioskConfig } from '../../kiosk/core/config.js';
import { DEFAULT_SITE_SETTINGS } from '../../provisioning/cli/main.js';
import { DEFAULT_SERIAL_ADAPTERS, usbguardRulesText } from '../../provisioning/lockdown.js';
import { recordScenarioResult } from '../reliability/results.js';

const config = parseKioskConfig({ ...DEFAULT_SITE_SETTINGS, deviceId: 'kiosk-usb-1', host: '127.0.0.1', port: 7443, kSharedFile: '/run/credentials/atm-kiosk.service/k_shared', journalDir: '/var/lib/atm-kiosk/journal' });
const TOUCHSCREEN = { vendorId: 0x0eef, productId: 0x0001 };
const RULES = usbguardRulesText(config, { serialAdapters: DEFAULT_SERIAL_ADAPTERS, touchscreens: [TOUCHSCREEN] });

function ruleParser(rulesText: string): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm-usbguard-'));
  try {
    const file = path.join(dir, 'rules.conf');
    writeFileSync(file, rulesText, { mode: 0o600 });
    const result = spawnSync('usbguard-rule-parser', ['-f', file], { encoding: 'utf8' });
    if (result.error) throw new Error(`usbguard-rule-parser is not installed (${result.error.message}); install it with: apt-get install -y usbguard`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the rule language, as far as provisioning writes it ----

interface Rule {
  readonly target: string;
  readonly id?: string;
  readonly interfaces?: readonly string[];
  readonly label?: string;
}

/** Reads a rule line of the subset provisioning writes; anything else is an error, so the evaluation never
 *  silently skips a condition it does not understand. */
function parseRule(line: string): Rule {
  const match = /^(allow|block|reject)(?: id ([0-9a-f]{4}:[0-9a-f]{4}))?(?: with-interface match-all \{ ((?:[0-9a-f*]{1,2}:[0-9a-f*]{1,2}:[0-9a-f*]{1,2} ?)+)\})?(?: label "([^"]*)")?$/.exec(line);
  if (!match) throw new Error(`not a rule this evaluation understands: ${line}`);
  return { target: match[1]!, ...(match[2] ? { id: match[2] } : {}), ...(match[3] ? { interfaces: match[3].trim().split(' ') } : {}), ...(match[4] ? { label: match[4] } : {}) };
}

const patternMatches = (pattern: string, value: string) => pattern.split(':').every((part, i) => part === '*' || part === value.split(':')[i]);

function decide(rules: readonly Rule[], device: UsbDevice): { target: string; rule?: string } {
  for (const rule of rules) {
    if (rule.id !== undefined && rule.id !== device.id) continue;
    if (rule.interfaces && !device.interfaces.every((i) => rule.interfaces!.some((p) => patternMatches(p, i)))) continue;
    return { target: rule.target, ...(rule.label ? { rule: rule.label } : {}) };
  }
  return { target: 'block' }; // ImplicitPolicyTarget=block
}

interface UsbDevice {
  readonly name: string;
  readonly id: string;
  readonly interfaces: readonly string[];
}

/** The kiosk's own devices and the Raspberry Pi's hubs, as they describe themselves. */
const KIOSK_DEVICES: readonly UsbDevice[] = [
  { name: 'Linux root hub (USB 2)', id: '1d6b:0002', interfaces: ['09:00:00'] },
  { name: 'Linux root hub (USB 3)', id: '1d6b:0003', interfaces: ['09:00:00'] },
  { name: "Raspberry Pi 4's VL805 hub", id: '2109:3431', interfaces: ['09:00:00'] },
  { name: 'card reader (HID, no boot protocol)', id: '0801:0001', interfaces: ['03:00:00'] },
  { name: 'dispenser adapter, FTDI FT232R', id: '0403:6001', interfaces: ['ff:ff:ff'] },
  { name: 'printer adapter, Prolific PL2303', id: '067b:2303', interfaces: ['ff:00:00'] },
  { name: 'encrypting PIN pad adapter, Silicon Labs CP2102', id: '10c4:ea60', interfaces: ['ff:00:00'] },
  { name: 'note acceptor adapter, WCH CH340', id: '1a86:7523', interfaces: ['ff:01:02'] },
  { name: 'touchscreen (HID)', id: '0eef:0001', interfaces: ['03:00:00'] },
];

/** What someone at the kiosk might plug in. */
const HOSTILE_DEVICES: readonly UsbDevice[] = [
  { name: 'USB keyboard', id: '046d:c31c', interfaces: ['03:01:01', '03:00:00'] },
  // The kiosk's PIN pad is an encrypting PIN pad on a serial adapter; a HID keypad (a boot keyboard) is
  // only a demo pad, never on a provisioned kiosk's allowlist.
  { name: 'HID keypad (boot keyboard), a demo PIN pad', id: '04d9:1203', interfaces: ['03:01:01'] },
  { name: 'keyboard with a media-keys interface', id: '045e:07f8', interfaces: ['03:01:01', '03:00:00', '03:00:00'] },
  { name: 'USB mouse', id: '046d:c077', interfaces: ['03:01:02'] },
  { name: 'memory stick', id: '0781:5567', interfaces: ['08:06:50'] },
  { name: 'Ethernet adapter (CDC ECM)', id: '0b95:1790', interfaces: ['02:06:00', '0a:00:00'] },
  { name: 'Wi-Fi dongle', id: '0bda:8179', interfaces: ['ff:ff:ff'] },
  { name: 'keyboard that copies the FTDI adapter id', id: '0403:6001', interfaces: ['03:01:01'] },
  { name: 'FTDI adapter id with a hidden keyboard interface', id: '0403:6001', interfaces: ['ff:ff:ff', '03:01:01'] },
  { name: 'keyboard that copies the printer adapter id', id: '067b:2303', interfaces: ['03:01:01', 'ff:00:00'] },
  { name: 'keyboard that copies the PIN pad adapter id', id: '10c4:ea60', interfaces: ['03:01:01'] },
  { name: 'hub with a built-in keyboard', id: '05e3:0608', interfaces: ['09:00:00', '03:01:01'] },
  { name: 'memory stick that copies the card reader id', id: '0801:0001', interfaces: ['08:06:50'] },
  { name: 'card reader id with a storage interface', id: '0801:0001', interfaces: ['03:00:00', '08:06:50'] },
  { name: 'touchscreen id with a storage interface', id: '0eef:0001', interfaces: ['03:00:00', '08:06:50'] },
];

test('usbguard-rule-parser reads every rule of the allowlist exactly as provisioning wrote it', (t) => {
  const result = ruleParser(RULES);
  t.is(result.status, 0, result.stderr);
  const rules = RULES.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  // The parser echoes every line as INPUT (comments too) and prints its own reading of it as OUTPUT (empty
  // for a comment).
  const inputs = [...result.stdout.matchAll(/^INPUT: (.*)$/gm)].map((m) => m[1]!);
  const outputs = [...result.stdout.matchAll(/^OUTPUT: ?(.*)$/gm)].map((m) => m[1]!);
  t.is(outputs.length, inputs.length, result.stdout);
  const read = inputs.map((input, i) => ({ input, output: outputs[i] })).filter(({ input }) => !input.startsWith('#'));
  t.deepEqual(read.map(({ input }) => input), rules);
  t.deepEqual(read.map(({ output }) => output), rules, "USBGuard's reading of each rule, printed back, is the rule itself");
  t.true(rules.every((rule) => rule.startsWith('allow ')), 'only allow rules: everything else falls to ImplicitPolicyTarget=block');
});

test('the parser check can fail: a misspelled operator or a bad id is refused', (t) => {
  t.not(ruleParser('allow id 0403:6001 with-interface matchall { ff:*:* }\n').status, 0);
  t.not(ruleParser('allow id 403:6001\n').status, 0);
});

test("the kiosk's own devices and hubs are allowed; keyboards, storage, network adapters and id copies with other interfaces are blocked", async (t) => {
  const rules = RULES.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map(parseRule);
  for (const device of KIOSK_DEVICES) t.is(decide(rules, device).target, 'allow', device.name);
  const accepted: string[] = [];
  for (const device of HOSTILE_DEVICES) {
    const decision = decide(rules, device);
    if (decision.target !== 'block') accepted.push(`${device.name} (${decision.rule})`);
  }
  await recordScenarioResult({
    scenario: 'a USB keyboard or VT switch at the kiosk (checked on the image)',
    part: 'usbguard allowlist',
    iterations: HOSTILE_DEVICES.length,
    faultsInjected: HOSTILE_DEVICES.length,
    acknowledged: accepted.length,
    lost: null,
    duplicated: null,
    invariantViolations: 0,
  });
  t.deepEqual(accepted, []);
});

test('the evaluation can tell: an allowlist without interface classes lets the copied ids through', (t) => {
  const loose = RULES.split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => (line.includes(' id ') ? line.replace(/ with-interface match-all \{[^}]*\}/, '') : line))
    .map(parseRule);
  t.is(decide(loose, HOSTILE_DEVICES.find((d) => d.name === 'keyboard that copies the FTDI adapter id')!).target, 'allow');
  t.is(decide(loose, HOSTILE_DEVICES[0]!).target, 'block', 'and a plain keyboard still falls to the implicit block');
});
