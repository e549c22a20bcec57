// The Debian packages a command needs, checked with dpkg and installed with apt-get when the command runs
// as root on Debian; otherwise the exact `apt-get install` line to run. Shared by `npm test` (the suite
// needs socat, Chromium, udev, …) and `npm start` (the demo kiosk's serial simulators need socat).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type PackageCheck =
  | { readonly kind: 'present' }
  | { readonly kind: 'installed'; readonly packages: readonly string[] }
  /** Not Debian: the caller must make sure an equivalent is there. */
  | { readonly kind: 'unknown-system' }
  | { readonly kind: 'missing'; readonly packages: readonly string[]; readonly command: string; readonly why: string };

export function isDebian(): boolean {
  return existsSync('/etc/debian_version') && spawnSync('dpkg-query', ['--version']).status === 0;
}

export function isInstalled(name: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

export function installCommand(packages: readonly string[]): string {
  return `apt-get update && apt-get install -y ${packages.join(' ')}`;
}

/** Installs what is missing when it can (root on Debian), showing apt-get's own progress on stderr. */
export function ensureDebianPackages(packages: readonly string[], say: (line: string) => void): PackageCheck {
  if (!isDebian()) return { kind: 'unknown-system' };
  const missing = packages.filter((p) => !isInstalled(p));
  if (missing.length === 0) return { kind: 'present' };
  const command = installCommand(missing);
  if (process.getuid?.() !== 0) return { kind: 'missing', packages: missing, command, why: 'not running as root' };
  say(`installing missing Debian packages: ${missing.join(' ')}`);
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) return { kind: 'missing', packages: missing, command, why: `\`apt-get ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})` };
  }
  return { kind: 'installed', packages: missing };
}
