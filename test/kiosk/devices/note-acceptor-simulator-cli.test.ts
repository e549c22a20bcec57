// The note acceptor simulator's terminal: typed commands, and the stand-alone process that a developer
// or a UI test runs, driven by the real driver over the pty it prints.
import test from 'ava';
import { spawn } from 'node:child_process';
import { openPtyPair } from '../../../kiosk/devices/serial/pty-pair.js';
import { SerialNoteAcceptor } from '../../../kiosk/devices/note-acceptor/driver.js';
import { parseAmountCents, runSimulatorCommand } from '../../../kiosk/devices/note-acceptor/simulator-commands.js';
import { NoteAcceptorSimulator } from '../../../kiosk/devices/note-acceptor/simulator.js';
import type { NoteAcceptorEvent } from '../../../kiosk/devices/note-acceptor/types.js';

const BOUND_MS = 30_000;

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${BOUND_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('amounts are typed as cents or as dollars, whole cents only', (t) => {
  t.is(parseAmountCents('2000'), 2000);
  t.is(parseAmountCents('$20'), 2000);
  t.is(parseAmountCents('$20.50'), 2050);
  for (const bad of ['$20.5', '20.00', '-5', '0', '$', 'abc', undefined]) t.is(parseAmountCents(bad), undefined, String(bad));
});

test('typed commands insert notes and faults, and mistakes are answered, not thrown', async (t) => {
  const pair = await openPtyPair();
  const sim = await NoteAcceptorSimulator.start({ path: pair.devicePath, escrowTimeoutMs: 0 });
  t.teardown(async () => {
    await sim.stop();
    await pair.close();
  });
  const run = (line: string) => runSimulatorCommand(sim, line).output;
  t.is(run('insert $20'), 'note of $20.00: rejected', 'the validator starts disabled');
  t.is(run('counterfeit'), 'counterfeit note: rejected');
  t.is(run('fault stacker-removed'), 'fault stacker-removed injected');
  t.deepEqual(sim.faults, ['stacker-removed']);
  t.is(run('clear'), 'cleared all faults; still active: none');
  t.regex(run('status'), /event counter: 4; faults: none/);
  t.regex(run('status'), /accept counter: 0 \(notes into the stacker, kept across power cycles\)/, 'nothing has been stacked');
  t.regex(run('insert 2500'), /^refused: no bill type is worth 2500 cents/);
  t.regex(run('unsupported $25'), /rejected$/);
  t.regex(run('fault bogus'), /^fault NAME, one of: jam,/);
  t.regex(run('dance'), /unknown command "dance"/);
  t.regex(run('insert'), /^insert AMOUNT/);
  t.true(runSimulatorCommand(sim, 'quit').quit);
});

test('the stand-alone simulator prints its path, takes typed notes, and the driver stacks them', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'kiosk/devices/note-acceptor/simulator-cli.ts', '--pty', '--escrow-timeout-ms', '0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // 'close', not 'exit': only then has all of its output been read.
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  await waitFor(() => /"noteAcceptorPath":"[^"]+"/.test(output) || child.exitCode !== null, 'the path line');
  const match = /"noteAcceptorPath":"([^"]+)"/.exec(output);
  t.truthy(match, output);
  const driver = new SerialNoteAcceptor({ path: match?.[1] ?? '', limits: { replyTimeoutMs: 1_000, pollIntervalMs: 20 } });
  const events: NoteAcceptorEvent[] = [];
  driver.onEvent((event) => events.push(event));
  t.teardown(() => driver.close());
  await driver.open();
  await driver.enable([2000, 5000]);

  child.stdin.write('insert $20\n');
  await waitFor(() => driver.noteInEscrow !== undefined, 'the typed note in escrow');
  t.is((await driver.stack()).outcome, 'stacked');
  child.stdin.write('fault stacker-removed\n');
  await waitFor(() => events.some((e) => e.type === 'fault' && e.code === 'stacker-removed'), 'the typed fault');
  child.stdin.write('stacked\n');
  await waitFor(() => /stacker: 1 note, \$20\.00/.test(output), 'the stacker listing');
  t.deepEqual(
    events.filter((e) => e.type === 'stacked').map((e) => (e.type === 'stacked' ? e.note.valueCents : 0)),
    [2000],
  );

  await driver.close();
  child.stdin.write('quit\n');
  t.is(await closed, 0, output);
});
