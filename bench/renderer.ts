// The renderer's size and its time to first screen (`npm run bench`, or BENCH_ONLY=renderer): the
// production build gzipped, and the time from navigation start to the first screen drawn from the
// controller's state in Debian's Chromium, over BENCH_RENDERER_LOADS page loads, at full speed and with
// the CPU throttled 4× (a rough stand-in for a slower board than this machine).
import { buildRenderer, closeChromium, startUiRig } from '../test/kiosk/ui/browser-rig.js';

const LOADS = Number(process.env.BENCH_RENDERER_LOADS ?? 20);
const THROTTLE_RATE = 4;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  process.stderr.write('  renderer: production build…');
  const build = await buildRenderer();
  process.stderr.write(' done\n');
  const ui = await startUiRig({ prefix: 'bench' });
  const cdp = await ui.page.context().newCDPSession(ui.page);
  const rows: [string, string][] = [['renderer size (JS + CSS)', `${(build.gzipBytes / 1024).toFixed(1)} KiB gzipped, ${(build.rawBytes / 1024).toFixed(1)} KiB raw`]];
  try {
    for (const rate of [1, THROTTLE_RATE]) {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      const times: number[] = [];
      process.stderr.write(`  renderer: first screen at CPU ${rate}×, ${LOADS} loads `);
      for (let i = 0; i < LOADS; i++) {
        process.stderr.write('.');
        await ui.page.reload();
        await ui.page.waitForSelector('[data-screen]');
        const ms = (await ui.page.evaluate(`(performance.getEntriesByType('mark').find((m) => m.name.startsWith('screen:')) || { startTime: NaN }).startTime`)) as number;
        if (!Number.isFinite(ms)) throw new Error('the page drew a screen without marking it');
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
