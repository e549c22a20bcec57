// The CLI's help texts that are not one admin command's own (each of those carries its usage, summary and
// options with its definition).
import { HOST_CONFIG_FILE } from '../config.js';

/** The overview `bank-host --help` prints, listing every admin command's usage after init and serve. */
export function mainHelp(usages: readonly string[]): string {
  return `bank-host: the ATM bank host and its operator commands

Usage:
  bank-host init --data DIR --keys DIR [--demo]
  bank-host serve --data DIR --keys DIR [--listen HOST:PORT] [--admin-socket PATH]
  bank-host migrate --data DIR --keys DIR --to postgresql://USER@HOST[,HOST…]/DATABASE
${usages.map((usage) => `  ${usage}`).join('\n')}

Run \`bank-host COMMAND --help\` for a command's options.`;
}

export const INIT_HELP = `Usage: bank-host init --data DIR --keys DIR [--demo]
       bank-host init --data DIR --keys DIR --store postgresql://USER@HOST[:PORT][,HOST[:PORT]…]/DATABASE
                      [--host-id ID] [--password-credential NAME] [--demo]

Creates an empty database in DIR and fresh host keys (owner-only files) in the key folder.
Refuses to overwrite existing keys.
  --data DIR                  the data folder to create
  --keys DIR                  the key folder to create (master, PIN verification and audit keys)
  --demo                      also write ${HOST_CONFIG_FILE} with kiosk registration enabled

With --store, a host whose ledger is on PostgreSQL (docs/scale-out.md): DIR gets only ${HOST_CONFIG_FILE} naming
the store, and init connects (creating the store's tables on an empty database). The key folder must hold
the role's password first (one line, owner-only); for the bank's first host init creates the keys beside
it, every other host is given a copy of the first host's keys (they share one ledger and one audit log).
Nothing is left behind when it fails.
  --store URL                 the cluster's nodes (the primary is found among them), the application's
                              role and its database; no password in it
  --host-id ID                this host's id, unique among the bank's hosts (default: the machine's name)
  --password-credential NAME  the file in the key folder holding the role's password (default: postgres-password)`;

export const SERVE_HELP = `Usage: bank-host serve --data DIR --keys DIR [--listen HOST:PORT] [--admin-socket PATH]

Serves kiosks over TLS 1.3-PSK until SIGTERM or SIGINT, then stops gracefully.
  --data DIR            the data folder (default: $STATE_DIRECTORY)
  --keys DIR            the key folder (default: $CREDENTIALS_DIRECTORY)
  --listen HOST:PORT    where kiosks connect (default: 127.0.0.1:7443)
  --admin-socket PATH   the owner-only admin socket (default: DATA/admin.sock)
  --log-level LEVEL     debug, info, warn or error (default: info)
  --console-listen HOST:PORT  the operator console and /metrics (default: 127.0.0.1:7444; a
                        non-loopback address needs --console-tls-cert and --console-tls-key)
  --console-tls-cert FILE, --console-tls-key FILE  serve the console over HTTPS (PEM files)
  --no-console          no console listener (and no /metrics)`;

/** `bank-host GROUP --help`: the group's commands, one line each, and where the host is. */
export function groupHelp(group: string, commands: readonly { readonly usage: string; readonly summary: string }[]): string {
  return `Usage: bank-host ${group} COMMAND …

${commands.map((c) => `  ${c.usage}\n      ${c.summary}`).join('\n')}

Run \`bank-host ${group} COMMAND --help\` for a command's options.

${CONNECTION_HELP}`;
}

/** Printed under every admin command's own help. */
export const CONNECTION_HELP = `Where the host is:
  --admin-socket PATH  the serving host's admin socket (default: $BANK_HOST_ADMIN_SOCKET, or DATA/admin.sock)
  --data DIR           the data folder (default: $STATE_DIRECTORY); used directly when the host is stopped
  --keys DIR           the key folder (default: $CREDENTIALS_DIRECTORY)
  --json               print the result as JSON`;
