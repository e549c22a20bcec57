// The bank host under benchmark, in its own process so the load generator does not share its event loop.
// Driven over IPC by bench/run.ts: setup enrolls kiosks and customers, check runs the ledger check, verify
// the audit chain; audit switches the audit log off and on between load phases (to measure what it costs).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../protocol/log.js';
import { AuditChain } from '../bank-host/audit/chain.js';
import type { AuditEvent, AuditSink } from '../bank-host/audit/event.js';
import type { GroupCommitter } from '../bank-host/store/group-commit.js';
import { AUDIT_HEAD_KEY } from '../bank-host/audit/record.js';
import { verifyAuditChain } from '../bank-host/audit/verify.js';
import { SETTING_CENTS_MAX, defaultHostConfig } from '../bank-host/config.js';
import { addCustomer, issueCard } from '../bank-host/customers/admin.js';
import { createHostKeys } from '../bank-host/keys.js';
import { BankHost, openHostState } from '../bank-host/host.js';
import { checkLedger } from '../bank-host/ledger/check.js';
import { hostOperations } from '../bank-host/operations/table.js';

type Command = { type: 'setup'; kiosks: number } | { type: 'fleet'; kiosks: number } | { type: 'audit'; enabled: boolean } | { type: 'check' } | { type: 'verify' } | { type: 'stats' } | { type: 'stop' };

/** For the "without audit" phases only: records nothing. A real host never runs without its audit chain. */
const NO_AUDIT: AuditSink = { prepare: () => [], committed: () => {}, failed: () => {} };

const dir = await mkdtemp(path.join(os.tmpdir(), 'bank-bench-'));
await createHostKeys(path.join(dir, 'keys'));
const state = await openHostState({ dataDir: path.join(dir, 'data'), keysDir: path.join(dir, 'keys') }, silentLogger, {
  // Limits high enough that the load measures the ledger, not the daily limits; deposits available at once,
  // so the withdrawals always have money to act on.
  config: defaultHostConfig({
    dailyWithdrawalLimitCents: SETTING_CENTS_MAX,
    // The kiosks sign in with cards: each card's own daily limit too.
    cardDailyWithdrawalLimitCents: SETTING_CENTS_MAX,
    maxWithdrawalCents: 100_000,
    depositDailyCapCents: SETTING_CENTS_MAX,
    depositHoldMs: 0,
  }),
});
const host = await BankHost.serve(state, {
  listenHost: '127.0.0.1',
  listenPort: 0,
  operations: hostOperations,
  limits: { maxConnections: 4096, maxConnectionsPerDevice: 8, idleTimeoutMs: 120_000 },
});
const services = state.services;

async function handle(command: Command): Promise<unknown> {
  switch (command.type) {
    case 'setup': {
      const kiosks = [];
      for (let i = 0; i < command.kiosks; i++) {
        const deviceId = `bench-kiosk-${i}`;
        const kShared = await state.registry.add(deviceId);
        const username = `bench-user-${i}`;
        await addCustomer(services, username, 'bench password 1234', { scryptCost: { log2N: 10, r: 8, p: 1 } });
        const card = await issueCard(services, username);
        kiosks.push({ deviceId, kSharedHex: kShared.toString('hex'), pinKeyHex: state.registry.pinKeyOf(deviceId)!.key.toString('hex'), pan: card.pan, pin: card.pin });
      }
      return { port: host.address.port, kiosks };
    }
    case 'fleet': {
      // Kiosks that only report their status (the fleet's heartbeat load): enrolled, no customers.
      const kiosks = [];
      for (let i = 0; i < command.kiosks; i++) {
        const deviceId = `bench-fleet-${i}`;
        kiosks.push({ deviceId, kSharedHex: (await state.registry.add(deviceId)).toString('hex') });
      }
      return { port: host.address.port, kiosks };
    }
    case 'audit':
      // Switched only between load phases, when no batch is in flight; the chain reopens at the durable head.
      (services.committer as GroupCommitter<AuditEvent>).setSink(command.enabled ? await AuditChain.open(services.db, { enc: services.keys.auditEnc, mac: services.keys.auditMac }) : NO_AUDIT);
      return {};
    case 'check':
      return checkLedger(services.db);
    case 'verify':
      return verifyAuditChain(services.db, { enc: services.keys.auditEnc, mac: services.keys.auditMac, sign: services.keys.auditSign });
    case 'stats':
      return {
        commits: services.committer.stats,
        fleet: services.fleet!.overview().counts,
        channel: host.channel.stats,
        auditHeadSeq: (await services.db.get<{ seq: number }>(AUDIT_HEAD_KEY))?.seq ?? 0,
        // User + system time of the whole host process, LevelDB's own threads included.
        cpuMicros: (({ user, system }) => user + system)(process.cpuUsage()),
        // Time the host's event loop (the one thread requests wait for) was busy, in wall time.
        eventLoopActiveMs: performance.eventLoopUtilization().active,
      };
    case 'stop':
      await host.close();
      await rm(dir, { recursive: true, force: true });
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (message: { id: number; command: Command }) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, result }),
    (error: Error) => process.send!({ id: message.id, error: error.message }),
  );
});
process.send!({ id: 0, result: 'ready' });
