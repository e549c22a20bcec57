// The per-address connection-rate limit docs/operations-systemd.md gives operators, tested as written: the
// `nft` block of that page is loaded into a private network namespace (nothing on the machine changes), a
// listener on port 7443 stands in for the host, and one address dials far faster than a kiosk ever does.
// Its burst gets through, the rest is dropped before the host sees it, another address is not affected, and
// the first address gets in again once it slows down. Needs root and nftables (test/debian-packages.txt).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const DOC = 'docs/operations-systemd.md';
/** What the page's ruleset promises: a burst of this many new connections per address, then 10/s. */
const BURST = 40;

const PROBE = `
import net from 'node:net';
const server = net.createServer((s) => s.destroy());
await new Promise((r) => server.listen(7443, '0.0.0.0', r));
const attempt = (localAddress) => new Promise((resolve) => {
  const s = net.connect({ port: 7443, host: '127.0.0.1', localAddress });
  const timer = setTimeout(() => (s.destroy(), resolve(false)), 500);
  s.once('connect', () => (clearTimeout(timer), s.destroy(), resolve(true)));
  s.once('error', () => (clearTimeout(timer), resolve(false)));
});
const accepted = (list) => list.filter(Boolean).length;
const flood = accepted(await Promise.all(Array.from({ length: 200 }, () => attempt('127.0.0.1'))));
const other = accepted(await Promise.all(Array.from({ length: 5 }, () => attempt('127.0.0.2'))));
await new Promise((r) => setTimeout(r, 2500));
const later = accepted(await Promise.all(Array.from({ length: 5 }, () => attempt('127.0.0.1'))));
console.log(JSON.stringify({ flood, other, later }));
server.close();
`;

test('the documented nftables rate limit lets a burst through per address, drops a flood, and spares other addresses', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (a network namespace and nftables)');
  // By its path: under npm, PATH starts with node_modules/.bin, which holds an unrelated `nft` (@vercel/nft).
  const nft = ['/usr/sbin/nft', '/sbin/nft'].find((file) => existsSync(file));
  if (nft === undefined) throw new Error('nftables is not installed (apt-get install -y nftables)');
  const page = await readFile(DOC, 'utf8');
  const ruleset = /```nft\n([\s\S]*?)```/.exec(page)?.[1];
  if (ruleset === undefined) throw new Error(`${DOC} has no \`\`\`nft block`);
  t.regex(ruleset, /tcp dport 7443/);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nft-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'ruleset.nft'), ruleset);
  await writeFile(path.join(dir, 'probe.mjs'), PROBE);
  const run = spawnSync('unshare', ['--net', 'sh', '-c', `ip link set lo up && ${nft} -f ${dir}/ruleset.nft && ${process.execPath} ${dir}/probe.mjs`], { encoding: 'utf8', timeout: 60_000 });
  t.is(run.status, 0, run.stderr);
  const counts = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { flood: number; other: number; later: number };
  t.log(JSON.stringify(counts));
  t.true(counts.flood >= BURST && counts.flood < BURST + 20, `${counts.flood} of 200 new connections from one address got through`);
  t.is(counts.other, 5, 'another address is not limited');
  t.is(counts.later, 5, 'the address gets in again once it slows down');
});
