// Builds the audit log's native batch sealer (audit-seal.c) into build/audit-seal.node at the repository
// root. `npm run build:native` runs it; `npm start` and `npm run bench` build it when they can (without a
// C compiler or OpenSSL's headers the host seals in JavaScript, and says so when it starts); `npm test`
// builds it or stops, since the tests hold the native sealer to the JavaScript reference. (`npm ci` runs
// no install scripts here: .npmrc sets ignore-scripts.)
//
// Needs a C compiler and OpenSSL's headers (Debian: gcc libc6-dev libssl-dev) and the Node-API headers
// (the node-api-headers package). It links nothing: Node-API and OpenSSL are resolved from the node process
// when the module loads, so it uses the very OpenSSL that Node's own `crypto` uses.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NATIVE_SEALER_FILE } from '../sealer.js';

const HELP = `Usage: npm run build:native -- [--if-possible] [--force]

Builds build/audit-seal.node, the bank host's native audit sealer.
  --if-possible  when the compiler or headers are missing, say so and exit 0
  --force        rebuild even when the module is newer than its source
Needs: a C compiler (CC, default cc) and OpenSSL's headers. On Debian 12:
  apt-get install -y gcc libc6-dev libssl-dev`;

export const APT_LINE = 'apt-get install -y gcc libc6-dev libssl-dev';
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const source = path.join(here, 'audit-seal.c');
export const MODULE_PATH = path.join(root, NATIVE_SEALER_FILE);

/** Builds the module unless it is up to date. Throws with what is missing when it cannot. */
export function buildNativeSealer({ force = false, log = (line: string) => console.log(line) }: { force?: boolean; log?: (line: string) => void } = {}): { built: boolean; path: string } {
  if (!force && existsSync(MODULE_PATH)) {
    const built = statSync(MODULE_PATH).mtimeMs;
    if (built >= statSync(source).mtimeMs && built >= statSync(fileURLToPath(import.meta.url)).mtimeMs) return { built: false, path: MODULE_PATH };
  }
  let napiInclude: string;
  try {
    napiInclude = (createRequire(import.meta.url)('node-api-headers') as { include_dir: string }).include_dir;
  } catch {
    throw new Error('the node-api-headers package is missing: run npm ci');
  }
  const cc = process.env.CC || 'cc';
  const opensslHeader = ['/usr/include/openssl/evp.h', '/usr/local/include/openssl/evp.h'].some((p) => existsSync(p));
  if (!opensslHeader) throw new Error(`OpenSSL's headers are missing (openssl/evp.h); on Debian: ${APT_LINE}`);
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`no working C compiler (${cc}); on Debian: ${APT_LINE}`);
  }
  mkdirSync(path.dirname(MODULE_PATH), { recursive: true });
  const partial = `${MODULE_PATH}.${process.pid}.partial`;
  log(`building the native audit sealer: ${path.relative(root, source)} -> ${path.relative(root, MODULE_PATH)}`);
  const args = ['-O2', '-fPIC', '-shared', '-fvisibility=hidden', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', '-I', napiInclude, '-o', partial, source];
  try {
    execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    rmSync(partial, { force: true });
    throw new Error(`${cc} failed to build ${path.relative(root, source)} (its errors are above)`);
  }
  renameSync(partial, MODULE_PATH);
  return { built: true, path: MODULE_PATH };
}

/** Builds the module when it can; otherwise returns why not (the host then seals in JavaScript). */
export function buildNativeSealerIfPossible(log: (line: string) => void = (line) => console.log(line)): string | undefined {
  try {
    buildNativeSealer({ log });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !['--if-possible', '--force', '--help', '-h'].includes(a));
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP);
  } else if (unknown.length > 0) {
    console.error(`build:native: unknown argument ${unknown[0]}\n\n${HELP}`);
    process.exitCode = 2;
  } else {
    try {
      const { built } = buildNativeSealer({ force: args.includes('--force') });
      if (!built) console.log(`the native audit sealer is up to date: ${path.relative(root, MODULE_PATH)}`);
    } catch (error) {
      const message = (error as Error).message;
      if (args.includes('--if-possible')) {
        console.log(`note: the native audit sealer was not built (${message}); the bank host will seal audit records in JavaScript, which costs more CPU per record`);
      } else {
        console.error(`build:native: ${message}`);
        process.exitCode = 1;
      }
    }
  }
}
