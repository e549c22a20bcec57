// The EPP simulator as a stand-alone process (simulator-cli.ts): it prints the pty the kiosk opens, the
// driver talks to it there, and it refuses bad arguments and identities.
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod } from 'node:fs/promises';
import { keyOfTerminal } from '../../../kiosk/devices/pin-pad/epp/terminal-keys.js';
import { EppPinPad } from '../../../kiosk/devices/pin-pad/epp/driver.js';
import { writeTestEppIdentityFile } from '../../helpers/epp-vendor.js';

const CLI = 'kiosk/devices/pin-pad/epp/simulator-cli.ts';

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { child, out: () => out, err: () => err };
}

test('the simulator process serves a pty the driver identifies, and stops on SIGTERM', async (t) => {
  const identity = await writeTestEppIdentityFile('CLI00001');
  const sim = run(['--pty', '--identity', identity]);
  t.teardown(() => sim.child.kill('SIGKILL'));
  const deadline = Date.now() + 20_000;
  while (!sim.out().includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const { pinPadPath, serial } = JSON.parse(sim.out().split('\n')[0]!) as { pinPadPath: string; serial: string };
  t.is(serial, 'CLI00001');
  const pad = new EppPinPad({ path: pinPadPath });
  pad.start();
  t.teardown(() => pad.stop());
  const certificate = await (async () => {
    for (;;) {
      try {
        return await pad.certificate();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  t.regex(certificate, /^atm-epp-cert v1 test-epp-vendor CLI00001 [0-9a-f]{64} [0-9a-f]{128}$/);
  t.is(await pad.pinKeyStatus(), undefined);
  await pad.stop();
  sim.child.kill('SIGTERM');
  const [code] = await once(sim.child, 'exit');
  t.is(code, 0);
});

test('bad arguments and an identity others may read are refused with exit 1', async (t) => {
  for (const args of [['--identity', 'x'], ['--pty'], ['--pty', '--path', '/dev/null', '--identity', 'x'], ['--pty', '--identity', '/nonexistent/identity']]) {
    const sim = run(args);
    const [code] = await once(sim.child, 'exit');
    t.is(code, 1, args.join(' '));
    t.regex(sim.err(), /EPP simulator: /);
  }
  const identity = await writeTestEppIdentityFile();
  await chmod(identity, 0o644);
  const open = run(['--pty', '--identity', identity]);
  const [code] = await once(open.child, 'exit');
  t.is(code, 1);
  t.regex(open.err(), /let others read it; run: chmod 600/);
  const help = run(['--help']);
  t.is((await once(help.child, 'exit'))[0], 0);
  t.regex(help.out(), /Backspace = Correct/);
});

test('terminal keys map to the pad keys; others mean nothing', (t) => {
  t.is(keyOfTerminal('7', '7'), '7');
  t.is(keyOfTerminal('\r', 'return'), 'enter');
  t.is(keyOfTerminal('\x1b', 'escape'), 'cancel');
  t.is(keyOfTerminal('\x7f', 'backspace'), 'correct');
  t.is(keyOfTerminal(undefined, 'f2'), 'F2');
  t.is(keyOfTerminal('a', 'a'), undefined);
  t.is(keyOfTerminal('q', 'q'), 'quit');
});
