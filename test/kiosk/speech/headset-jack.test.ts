// The headset jack read from the sound card's ALSA jack control with amixer: the parser on output as
// amixer prints it (captured from real machines), the polling jack over a stand-in amixer that prints
// those captures, and the real amixer (alsa-utils) on a card this machine does not have.
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { AlsaHeadsetJack, JackReadError, parseAmixerJack, SimulatedHeadsetJack } from '../../../kiosk/core/speech/headset-jack.js';
import { eventually } from '../../helpers/host.js';

// `amixer -Dhw:0 cget numid=12` on a laptop with its headset jack empty (Linux alsa-devel, 2022) …
const CAPTURED_OFF = "numid=12,iface=CARD,name='Headphone Jack'\n  ; type=BOOLEAN,access=r-------,values=1\n  : values=off\n";
// … and `amixer -c 0 contents` on a Rockchip ES8388 board with a headset in (its first control).
const CAPTURED_ON = "numid=26,iface=CARD,name='Headphone Jack'\n; type=BOOLEAN,access=r-------,values=1\n: values=on\n";

test('the jack control as amixer prints it: off and on', (t) => {
  t.false(parseAmixerJack(CAPTURED_OFF));
  t.true(parseAmixerJack(CAPTURED_ON));
  t.true(parseAmixerJack(CAPTURED_ON.replaceAll('Headphone Jack', 'Headset Jack'), 'Headset Jack'));
});

test('anything but the jack control is refused, naming what is wrong', (t) => {
  const bad: [string, RegExp][] = [
    ['', /expected the CARD control 'Headphone Jack'/],
    ["numid=3,iface=MIXER,name='Headphone Playback Switch'\n  ; type=BOOLEAN,access=rw------,values=2\n  : values=on,on\n", /expected the CARD control/],
    [CAPTURED_ON.replace('Headphone Jack', 'Headset Mic Jack'), /expected the CARD control 'Headphone Jack'/],
    [CAPTURED_ON.replace('type=BOOLEAN', 'type=INTEGER'), /not a BOOLEAN control/],
    [CAPTURED_ON.replace(': values=on\n', ''), /0 value lines/],
    [CAPTURED_ON + ': values=off\n', /2 value lines/],
    [CAPTURED_ON.replace('values=on', 'values=maybe'), /"maybe", expected on or off/],
  ];
  for (const [output, message] of bad) t.throws(() => parseAmixerJack(output), { instanceOf: JackReadError, message }, JSON.stringify(output));
});

test('the jack follows the card: plugged, unplugged, and an unreadable card counts as unplugged', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jack-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const stateFile = path.join(dir, 'state');
  const argsFile = path.join(dir, 'args');
  const amixer = path.join(dir, 'amixer');
  // A stand-in for amixer printing the captured output for the state the test sets (or failing as
  // amixer does for a card that is gone).
  await writeFile(amixer, `#!/bin/sh\nprintf '%s\\n' "$@" > ${argsFile}\ncase "$(cat ${stateFile})" in\n on) printf "%s" "${CAPTURED_ON}";;\n off) printf "%s" "${CAPTURED_OFF}";;\n *) echo "Invalid card number '1'." >&2; exit 1;;\nesac\n`);
  await chmod(amixer, 0o755);
  await writeFile(stateFile, 'off');
  const errors: string[] = [];
  const jack = new AlsaHeadsetJack({ card: '1', amixer, pollIntervalMs: 50, onError: (error) => errors.push(error.message) });
  const changes: boolean[] = [];
  jack.onChange((plugged) => changes.push(plugged));
  jack.start();
  t.teardown(() => jack.stop());
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.false(jack.plugged);
  await writeFile(stateFile, 'on');
  t.true(await eventually(() => jack.plugged, 10_000));
  await writeFile(stateFile, 'gone');
  t.true(await eventually(() => !jack.plugged, 10_000));
  await new Promise((resolve) => setTimeout(resolve, 200));
  jack.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.deepEqual((await readFile(argsFile, 'utf8')).trim().split('\n'), ['-c', '1', 'cget', "iface=CARD,name='Headphone Jack'"]);
  t.deepEqual(changes, [true, false]);
  t.deepEqual(errors, ["amixer -c 1: Invalid card number '1'."], 'a failing card is said once, not at every poll');
});

test('the real amixer on a card this machine does not have: an error naming the card', async (t) => {
  if (spawnSync('amixer', ['--version']).error) throw new Error('amixer is missing: run apt-get install -y --no-install-recommends alsa-utils');
  const jack = new AlsaHeadsetJack({ card: '29' });
  await t.throwsAsync(jack.read(), { instanceOf: JackReadError, message: /amixer -c 29: .*(card|control)/i });
  await jack.poll();
  t.false(jack.plugged);
});

test('a jack control name or card that would break amixer is refused at construction', (t) => {
  t.throws(() => new AlsaHeadsetJack({ card: "0',name='x" }), { instanceOf: RangeError });
  t.throws(() => new AlsaHeadsetJack({ card: '0', control: "Headphone Jack',iface=MIXER" }), { instanceOf: RangeError });
  t.throws(() => new AlsaHeadsetJack({ card: '0', control: 'Master Playback Switch' }), { instanceOf: RangeError });
});

test('the simulated jack tells its listeners of each change, once', (t) => {
  const jack = new SimulatedHeadsetJack();
  const changes: boolean[] = [];
  const stop = jack.onChange((plugged) => changes.push(plugged));
  jack.plug();
  jack.plug();
  jack.unplug();
  stop();
  jack.plug();
  t.deepEqual(changes, [true, false]);
});
