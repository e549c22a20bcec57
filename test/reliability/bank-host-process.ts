// The bank host as a child process of a reliability test: real keys and LevelDB in the test's folder, the
// real channel server, driven over IPC by bank-host-child.ts. A separate process so the test can SIGKILL
// it at any moment and measure its memory and open files. After a restart on the same folder it answers
// `check` (ledger check and audit verify, the functions `bank-host ledger check` and `audit verify` run)
// and `inspect` before it is told to serve, so nothing changes the database while it is being checked.
import path from 'node:path';
import { createLogger } from '../../protocol/log.js';
import type { HostLimits } from '../../protocol/limits.js';
import { defaultHostConfig, type HostConfig } from '../../bank-host/config.js';
import { addCustomer, issueCard, openAccount } from '../../bank-host/customers/admin.js';
import { createHostKeys } from '../../bank-host/keys.js';
import { BankHost, openHostState } from '../../bank-host/host.js';
import { checkLedger } from '../../bank-host/ledger/check.js';
import { runAuditVerify } from '../../bank-host/audit/operator-commands.js';
import { activityOperation } from '../../bank-host/operations/activity.js';
import { createBankingOperations } from '../../bank-host/operations/banking.js';
import { inspectLedger } from './ledger-inspection.js';

export const HOST_PROCESS_PARAMS_ENV = 'RELIABILITY_HOST_PARAMS';
/** Cheap scrypt for customers created here, so sign-in storms measure the host, not the hash. */
export const CHILD_SCRYPT_COST = { log2N: 10, r: 8, p: 1 } as const;

export interface HostProcessParams {
  readonly dir: string;
  /** Create keys first (a new host); otherwise reopen the folder (a restart). */
  readonly fresh: boolean;
  readonly config?: Partial<HostConfig>;
  readonly limits?: Partial<HostLimits>;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface CustomerSpec {
  readonly username: string;
  readonly password: string;
  readonly savings?: boolean;
  readonly card?: boolean;
}

export type HostCommand =
  | { readonly type: 'setup'; readonly devices: readonly string[]; readonly customers: readonly CustomerSpec[] }
  | { readonly type: 'check' }
  | { readonly type: 'inspect'; readonly audit?: boolean }
  | { readonly type: 'serve'; readonly port: number }
  | { readonly type: 'stats' }
  | { readonly type: 'stop' };

export interface SetupResult {
  readonly devices: { deviceId: string; kSharedHex: string }[];
  readonly customers: { username: string; customerId: string; accountIds: string[]; card?: { pan: string; pin: string; expiresYm: string } }[];
}

async function main(): Promise<void> {
  const params = JSON.parse(process.env[HOST_PROCESS_PARAMS_ENV] ?? '') as HostProcessParams;
  const dataDir = path.join(params.dir, 'data');
  const keysDir = path.join(params.dir, 'keys');
  if (params.fresh) await createHostKeys(keysDir);
  const log = createLogger({ level: params.logLevel ?? 'warn', write: (line) => process.stderr.write(line + '\n') });
  const state = await openHostState({ dataDir, keysDir }, log, { config: defaultHostConfig({ registrationEnabled: false, ...params.config }) });
  const services = state.services;
  let host: BankHost | undefined;

  const handle = async (command: HostCommand): Promise<unknown> => {
    switch (command.type) {
      case 'setup': {
        const devices = [];
        for (const deviceId of command.devices) devices.push({ deviceId, kSharedHex: (await state.registry.add(deviceId)).toString('hex') });
        const customers = [];
        for (const spec of command.customers) {
          const added = await addCustomer(services, spec.username, spec.password, { scryptCost: CHILD_SCRYPT_COST });
          const accountIds = [added.accountId];
          if (spec.savings) accountIds.push((await openAccount(services, spec.username, 'savings')).accountId);
          const card = spec.card ? await issueCard(services, spec.username) : undefined;
          customers.push({ username: spec.username, customerId: added.customerId, accountIds, ...(card && { card: { pan: card.pan, pin: card.pin, expiresYm: card.expiresYm } }) });
        }
        return { devices, customers } satisfies SetupResult;
      }
      case 'check': {
        const ledger = await checkLedger(services.db);
        const audit = await runAuditVerify({ services }, {});
        return { ledger, audit };
      }
      case 'inspect':
        return inspectLedger(services.db, command.audit ? services.keys.auditEnc : undefined);
      case 'serve': {
        if (host) return { port: host.address.port };
        host = await BankHost.serve(state, {
          listenHost: '127.0.0.1',
          listenPort: command.port,
          adminSocketPath: path.join(params.dir, 'admin.sock'),
          operations: { ...createBankingOperations({ scryptCost: CHILD_SCRYPT_COST }), activity: activityOperation },
          ...(params.limits && { limits: params.limits }),
        });
        return { port: host.address.port };
      }
      case 'stats':
        return { channel: host?.channel.stats, commits: services.committer.stats };
      case 'stop':
        if (host) await host.close(1_000);
        else await state.close();
        setImmediate(() => process.exit(0));
        return {};
    }
  };

  process.on('message', (message: { id: number; command: HostCommand }) => {
    handle(message.command).then(
      (result) => process.send!({ id: message.id, result }),
      (error: Error) => process.send!({ id: message.id, error: `${error.name}: ${error.message}` }),
    );
  });
  // The parent is the only reason to live: if it dies, so does the host (no orphaned LevelDB lock).
  process.on('disconnect', () => process.exit(1));
  process.send!({ id: 0, result: 'ready' });
}

if (process.env[HOST_PROCESS_PARAMS_ENV]) {
  main().catch((error: unknown) => {
    process.stderr.write(`bank host process failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
