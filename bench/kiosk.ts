// What a customer waits for at the kiosk (`npm run bench`, or BENCH_ONLY=kiosk):
//   1. PIN Enter → menu, withdraw confirm → cash presented, and password submit → menu, against a real host
//      on loopback at production scrypt cost and the simulators over socat ptys at 9600 baud, the speed of
//      common dispensers and printers (BENCH_KIOSK_ROUNDS rounds). The simulated dispenser moves notes
//      instantly, so "cash presented" is the kiosk, host and serial-line share, before the mechanism's time.
//   2. The renderer's size (production build, gzipped) and its time from navigation start to the first
//      screen drawn from the controller's state in Debian's Chromium, over BENCH_RENDERER_LOADS page loads,
//      at full speed and with the CPU throttled 4× (a rough stand-in for a slower board than this machine).
import { SCRYPT_COST_PRODUCTION } from '../bank-host/customers/passwords.js';
import { hostOperations } from '../bank-host/operations/table.js';
import type { KioskTiming } from '../kiosk/core/kiosk.js';
import { PASSWORD, startKioskRig } from '../test/kiosk/core/kiosk-rig.js';
import { buildRenderer, closeChromium, firstScreenMark, startUiRig } from '../test/kiosk/ui/browser-rig.js';
import { percentile, benchSetting } from './stats.js';

const LOADS = benchSetting('BENCH_RENDERER_LOADS', 20, 1, 10_000);
const ROUNDS = benchSetting('BENCH_KIOSK_ROUNDS', 10, 1, 10_000);
const THROTTLE_RATE = 4;

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms (${sorted.length} rounds)`;
}

async function customerWaits(): Promise<[string, string][]> {
  const rig = await startKioskRig({ operations: hostOperations, baudRate: 9600 });
  try {
    const card = await rig.customer('pat', 100_000, SCRYPT_COST_PRODUCTION);
    const byName = (name: KioskTiming['name']) => rig.kiosk.timings.filter((x) => x.name === name).map((x) => x.ms);
    process.stderr.write(`  kiosk: card, PIN and a $40 withdrawal, ${ROUNDS} rounds `);
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write('.');
      await rig.waitFor((s) => s.screen === 'welcome');
      rig.swipe(card);
      await rig.waitFor((s) => s.screen === 'pin');
      rig.typePin(card.pin, 'enter');
      await rig.waitFor((s) => s.screen === 'menu');
      await rig.kiosk.selectMenu('withdraw');
      await rig.kiosk.withdraw(4_000);
      if (rig.kiosk.snapshot().screen !== 'another-transaction') throw new Error(`withdrawal ended on ${JSON.stringify(rig.kiosk.snapshot())}`);
      await rig.kiosk.anotherTransaction(false);
      await rig.waitFor((s) => s.screen === 'welcome');
      await rig.kiosk.beginPasswordSignIn('pat', PASSWORD);
      rig.kiosk.cancel();
    }
    process.stderr.write(' done\n');
    return [
      ['PIN Enter → menu', summary(byName('pin-enter-to-menu'))],
      ['withdraw confirm → cash presented', summary(byName('withdraw-confirm-to-cash'))],
      [`password submit → menu (scrypt log2N ${SCRYPT_COST_PRODUCTION.log2N})`, summary(byName('password-submit-to-menu'))],
    ];
  } finally {
    await rig.close();
  }
}

async function main(): Promise<void> {
  const rows = await customerWaits();
  process.stderr.write('  renderer: production build…');
  const build = await buildRenderer();
  process.stderr.write(' done\n');
  const ui = await startUiRig({ prefix: 'bench' });
  const cdp = await ui.page.context().newCDPSession(ui.page);
  rows.push(['renderer size (JS + CSS)', `${(build.gzipBytes / 1024).toFixed(1)} KiB gzipped, ${(build.rawBytes / 1024).toFixed(1)} KiB raw`]);
  try {
    for (const rate of [1, THROTTLE_RATE]) {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      const times: number[] = [];
      process.stderr.write(`  renderer: first screen at CPU ${rate}×, ${LOADS} loads `);
      for (let i = 0; i < LOADS; i++) {
        process.stderr.write('.');
        await ui.page.reload();
        const ms = await firstScreenMark(ui.page);
        times.push(ms);
      }
      process.stderr.write(' done\n');
      times.sort((a, b) => a - b);
      rows.push([`time to first screen, CPU ${rate}×`, `median ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms (${LOADS} loads)`]);
    }
  } finally {
    await ui.close();
    await closeChromium();
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('');
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

await main();
