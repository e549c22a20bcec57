// The `provision` tool's help texts and version: `provision --help`, `provision help COMMAND`,
// `provision COMMAND --help` and `provision --version`.
import { readFileSync } from 'node:fs';

export const MAIN_HELP = `provision: prepare an ATM kiosk's root filesystem (a mounted SD card or a folder)

Usage:
  provision enroll --device-id ID --host HOST:PORT [--host HOST:PORT…] --root DIR (--key-file FILE | --admin-socket PATH)
  provision rotate --root DIR (--key-file FILE | --admin-socket PATH)
  provision revoke (--root DIR | --device-id ID) (--admin-socket PATH | --local-only)
  provision check --root DIR [--offline] [--admin-socket PATH]
  provision help COMMAND
  provision --version

Run \`provision COMMAND --help\` (or \`provision help COMMAND\`) for a command's options. The key
(K_SHARED) is never printed; every command that makes, installs or checks one shows its check value (KCV).`;

export const ENROLL_HELP = `Usage: provision enroll --device-id ID --host HOST:PORT [--host HOST:PORT…] --root DIR (--key-file FILE | --admin-socket PATH)

Writes the kiosk's identity onto its root filesystem: /etc/atm-kiosk/kiosk.json and K_SHARED, staged
root-only for the kiosk to seal with systemd-creds at its next start (docs/keys.md); the kiosk's systemd
units, sysusers and tmpfiles entries and udev rules (where the package has not installed them); the
lock-down: getty, autovt, serial-getty and console-getty masked, Ctrl-Alt-Del masked, kernel.sysrq = 0,
and a USBGuard allowlist of the kiosk's own USB devices; and enables atm-kiosk.service with
graphical.target as the default target. Safe to run again. Shows the key's check value (KCV).

  --device-id ID       the kiosk's id on the bank host (3-63 of a-z 0-9 -)
  --host HOST:PORT     where the bank host listens for kiosks, e.g. bank.example:7443 or [2001:db8::5]:7443;
                       repeat for each bank host sharing one database (up to 8): the kiosk tries them in
                       this order and stays with the one it reached until that one fails
  --root DIR           the kiosk's root filesystem (the SD card's mounted root partition, or any folder)
  --key-file FILE      the key file \`bank-host device add ID --key-out FILE\` wrote for this device (it
                       names the device and key version; another kiosk's key is refused)
  --admin-socket PATH  the bank host's admin socket: registers the device on the host and takes its new key
  --settings FILE      JSON with the site's part of kiosk.json (devices, cassettes, fastCashCents, timeouts,
                       languages, journalDir); default: what the root's kiosk.json has, else the packaged
                       hardware (the devices 70-atm-kiosk.rules names, one $20 cassette)
  --udev-rules FILE    the site's own udev rules, written to /etc/udev/rules.d/70-atm-kiosk.rules
  --serial-adapter VID:PID  a USB serial adapter of the kiosk (dispenser, printer, PIN pad, note acceptor),
                       e.g. 0403:6001; repeat for each. Replaces the list USBGuard allows; default: what the
                       root allows already, else the packaged adapters (0403:6001, 067b:2303, 10c4:ea60
                       and 1a86:7523)
  --touchscreen VID:PID  a USB touchscreen of the kiosk; repeat for each (default: as for --serial-adapter,
                       else none)
  --restrict-network   let the kiosk reach only its bank hosts (needs every --host as an IP address): a drop-in
                       /etc/systemd/system/atm-kiosk.service.d/host-address.conf with IPAddressAllow=
  --force              replace another device's identity already in the root`;

export const ROTATE_HELP = `Usage: provision rotate --root DIR (--key-file FILE | --admin-socket PATH)

Gives the kiosk in DIR a new K_SHARED, staged for the kiosk to seal at its next start (on a running kiosk,
\`systemctl restart atm-kiosk.service\`). With --admin-socket the bank host makes the new key (the old one
stops working at once); with --key-file, install the key file \`bank-host device rotate ID --key-out FILE\`
wrote: a key of another device, older than the installed one, or damaged is refused and nothing changes.
Shows the new key's check value (KCV).

  --root DIR           the kiosk's root filesystem; its kiosk.json names the device
  --key-file FILE      the new key file, from \`bank-host device rotate\`
  --admin-socket PATH  the bank host's admin socket`;

export const REVOKE_HELP = `Usage: provision revoke (--root DIR | --device-id ID) (--admin-socket PATH | --local-only)

Revokes a kiosk: the bank host refuses its handshakes and closes its connections, and the key (clear or
sealed) is wiped from the root. Without a root (a stolen or dead kiosk), --device-id alone revokes it on
the host.

  --root DIR           the kiosk's root filesystem: its device id is read there and its key destroyed
  --device-id ID       the device to revoke (must match the root's, if both are given)
  --admin-socket PATH  the bank host's admin socket: revoke it on the host
  --local-only         only wipe the key from the root; then revoke it on the host with
                       \`bank-host device revoke ID\``;

export const CHECK_HELP = `Usage: provision check --root DIR [--offline] [--admin-socket PATH] [--timeout-ms N]

Reports what the prepared root lacks or has wrong: kiosk.json; the key (staged root-only or sealed, never
left in clear on a kiosk that has started, its device, version and check value (KCV)); units,
sysusers/tmpfiles entries, udev rules, the enabled unit and default target; the lock-down (cage without
VT switching, gettys and Ctrl-Alt-Del masked, kernel.sysrq = 0, the USBGuard allowlist); and whether the
bank host accepts the kiosk (a real TLS 1.3-PSK handshake with the root's device id and key, then a ping:
possible while the key is staged, or on the kiosk itself as root, where systemd-creds unseals it).
Exits 1 when anything is wrong.

  --root DIR           the kiosk's root filesystem (/ on the kiosk itself)
  --offline            do not contact the bank host
  --admin-socket PATH  also ask the bank host whether it knows the device (a refused handshake does not say)
  --timeout-ms N       the most to wait at each step of the connection (default 5000)`;

export const COMMAND_HELP: Record<string, string> = { enroll: ENROLL_HELP, rotate: ROTATE_HELP, revoke: REVOKE_HELP, check: CHECK_HELP };

/** The project's version, from the package.json beside the sources (provisioning/cli/) or the build
 *  (dist/provisioning/cli/). */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'atm-kiosk' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not this one; try the next
    }
  }
  return 'unknown';
}
