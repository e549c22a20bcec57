// Operator commands. One table serves both paths: through the running host's admin socket, and directly on
// the database when the host is stopped. Arguments are validated here, whichever path they came by.
import { z } from 'zod';
import { AdminError } from '../errors.js';
import { auditCheckpointArgs, auditShowArgs, auditVerifyArgs, runAuditCheckpoint, runAuditShow, runAuditVerify } from '../audit/operator-commands.js';
import { addCustomer, blockCard, issueCard, openAccount, showCustomer, unblockCard } from '../customers/admin.js';
import type { ScryptCost } from '../customers/passwords.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { checkLedger } from '../ledger/check.js';
import { countOpenHolds, listHolds, resolveHold } from '../ledger/operator.js';
import { listDepositHolds, listMoneyExceptions, listOpenDeposits, releaseDepositHoldByOperator, resolveMoneyException } from '../ledger/deposit-operator.js';
import { runOperatorAction } from '../audit/operator-action.js';
import type { HostServices } from '../operations/context.js';

export interface AdminContext {
  readonly services: HostServices;
  readonly registry: DeviceRegistry;
  /** Live figures of a serving host; undefined when the CLI opened the database directly. */
  readonly liveStatus?: () => Record<string, unknown>;
  /** Tests pass a cheap scrypt cost; production uses the OWASP minimum. */
  readonly scryptCost?: ScryptCost;
  /** Progress of long commands (audit verify) for someone watching; the CLI on a stopped host prints it. */
  readonly progress?: (text: string) => void;
}

interface AdminCommand<S extends z.ZodTypeAny> {
  readonly args: S;
  run(ctx: AdminContext, args: z.infer<S>): Promise<unknown>;
}

function command<S extends z.ZodTypeAny>(args: S, run: (ctx: AdminContext, args: z.infer<S>) => Promise<unknown>): AdminCommand<S> {
  return { args, run };
}

const deviceId = z.object({ deviceId: z.string().min(1).max(64) }).strict();
/** A key the operator's CLI made and wrote to its --key-out file before asking the host to take it. Without
 *  one the host makes the key and answers it (the provisioning tool's enroll over the admin socket). */
const suppliedKey = {
  kSharedHex: z.string().regex(/^[0-9a-f]{64}$/, 'K_SHARED is 64 lowercase hex digits').optional(),
  keyVersion: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
};
const deviceKeyChange = z
  .object({ deviceId: z.string().min(1).max(64), ...suppliedKey })
  .strict()
  .refine((a) => (a.kSharedHex === undefined) === (a.keyVersion === undefined), 'kSharedHex and keyVersion go together');

/** The answer of an add or rotation: the device, and the key only when the host made it. */
async function keyChangeAnswer(ctx: AdminContext, deviceId: string, key: Buffer, supplied: boolean): Promise<unknown> {
  try {
    return { device: ctx.registry.get(deviceId), ...(supplied ? {} : { kSharedHex: key.toString('hex') }) };
  } finally {
    key.fill(0);
  }
}
const username = z.object({ username: z.string().min(1).max(64) }).strict();
// A card is named by its PAN, or by its customer and last four digits (a lost card the customer cannot read).
const card = z.union([
  z.object({ pan: z.string().regex(/^[0-9]{12,19}$/, 'a PAN is 12-19 digits') }).strict(),
  z.object({ username: z.string().min(1).max(64), last4: z.string().regex(/^[0-9]{4}$/, 'the last four digits of the card') }).strict(),
]);
const cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const authorizationId = z.string().min(1).max(64);

export const ADMIN_COMMANDS = {
  status: command(z.object({}).strict(), async (ctx) => ({
    serving: ctx.liveStatus !== undefined,
    devices: ctx.registry.list().length,
    ...(ctx.liveStatus ? ctx.liveStatus() : {}),
  })),
  'device.add': command(deviceKeyChange, async (ctx, a) => {
    if (a.kSharedHex !== undefined && a.keyVersion !== 1) throw new AdminError('BAD_ARGUMENTS', 'device.add: a new device starts at key version 1');
    const supplied = a.kSharedHex !== undefined ? Buffer.from(a.kSharedHex, 'hex') : undefined;
    try {
      return await keyChangeAnswer(ctx, a.deviceId, await ctx.registry.add(a.deviceId, 'operator', supplied), supplied !== undefined);
    } finally {
      supplied?.fill(0);
    }
  }),
  /** An add or rotation whose key file the CLI could not write: nothing changes, and the log says it failed. */
  'device.key-out-failed': command(
    z.object({ action: z.enum(['device.add', 'device.rotate']), deviceId: z.string().min(1).max(64), error: z.string().regex(/^[A-Z0-9_]{1,32}$/, 'a system error code') }).strict(),
    async (ctx, a) => {
      await ctx.registry.recordKeyOutFailure(a.action, a.deviceId, a.error);
      return { recorded: true };
    },
  ),
  'device.list': command(z.object({}).strict(), async (ctx) => ({ devices: ctx.registry.list() })),
  'device.revoke': command(deviceId, async (ctx, { deviceId }) => ({ device: await ctx.registry.revoke(deviceId) })),
  'device.rotate': command(deviceKeyChange, async (ctx, a) => {
    const supplied = a.kSharedHex !== undefined ? { kShared: Buffer.from(a.kSharedHex, 'hex'), keyVersion: a.keyVersion! } : undefined;
    try {
      return await keyChangeAnswer(ctx, a.deviceId, await ctx.registry.rotate(a.deviceId, 'operator', supplied), supplied !== undefined);
    } finally {
      supplied?.kShared.fill(0);
    }
  }),
  /** A new PIN encryption key for the device (K_SHARED untouched); `replaceEpp` after a PIN pad swap. */
  'device.rotate-pin-key': command(z.object({ deviceId: z.string().min(1).max(64), replaceEpp: z.boolean().optional() }).strict(), async (ctx, a) => ({
    device: await ctx.registry.rotatePinKey(a.deviceId, 'operator', { replaceEpp: a.replaceEpp ?? false }),
  })),
  'customer.add': command(z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(128) }).strict(), async (ctx, a) =>
    addCustomer(ctx.services, a.username, a.password, ctx.scryptCost ? { scryptCost: ctx.scryptCost } : {}),
  ),
  // Reads of a customer's data and of open holds are operator actions too: each leaves a record.
  'customer.show': command(username, async (ctx, a) =>
    runOperatorAction(ctx.services, 'customer.show', async (run) => {
      run.facts.detail = { username: a.username };
      const view = await showCustomer(ctx.services, a.username);
      run.facts.customerId = view.customerId;
      await run.commit([]);
      return view;
    }),
  ),
  'account.open': command(
    z.object({ username: z.string().min(1).max(64), kind: z.enum(['chequing', 'savings']).optional() }).strict(),
    async (ctx, a) => openAccount(ctx.services, a.username, a.kind ?? 'chequing'),
  ),
  'card.issue': command(z.object({ username: z.string().min(1).max(64), accountId: z.string().min(1).max(64).optional() }).strict(), async (ctx, a) =>
    issueCard(ctx.services, a.username, a.accountId),
  ),
  'card.block': command(card, async (ctx, a) => blockCard(ctx.services, a)),
  'card.unblock': command(card, async (ctx, a) => unblockCard(ctx.services, a)),
  'holds.list': command(
    z
      .object({ olderThanMs: cents.optional(), all: z.boolean().optional() })
      .strict()
      .refine((a) => !(a.all && a.olderThanMs !== undefined), 'all and olderThanMs exclude each other'),
    async (ctx, a) =>
      runOperatorAction(ctx.services, 'holds.list', async (run) => {
        // By default the holds whose kiosk has not settled them within the host's setting: those need a person.
        const olderThanMs = a.all ? undefined : (a.olderThanMs ?? ctx.services.config.holdAttentionAfterMs);
        const holds = await listHolds(ctx.services, olderThanMs !== undefined ? { olderThanMs } : {});
        const openHolds = await countOpenHolds(ctx.services.db);
        run.facts.detail = { listed: holds.length, ...(olderThanMs !== undefined && { olderThanMs }) };
        await run.commit([]);
        return { holds, openHolds, ...(olderThanMs !== undefined && { olderThanMs }) };
      }),
  ),
  'holds.complete': command(z.object({ authorizationId, dispensedCents: cents.optional() }).strict(), async (ctx, a) =>
    resolveHold(ctx.services, a.authorizationId, 'complete', a.dispensedCents),
  ),
  'holds.reverse': command(z.object({ authorizationId }).strict(), async (ctx, a) => resolveHold(ctx.services, a.authorizationId, 'reverse')),
  'deposits.holds': command(z.object({}).strict(), async (ctx) =>
    runOperatorAction(ctx.services, 'deposits.holds', async (run) => {
      const holds = await listDepositHolds(ctx.services.db);
      run.facts.detail = { listed: holds.length };
      await run.commit([]);
      return { holds };
    }),
  ),
  'deposits.release': command(z.object({ holdId: z.string().regex(/^dhd_[0-9a-f]{24}$/, 'a deposit hold id is dhd_ and 24 hex digits') }).strict(), async (ctx, a) => ({
    hold: await releaseDepositHoldByOperator(ctx.services, a.holdId),
  })),
  'deposits.open': command(z.object({}).strict(), async (ctx) =>
    runOperatorAction(ctx.services, 'deposits.open', async (run) => {
      const deposits = await listOpenDeposits(ctx.services.db);
      run.facts.detail = { listed: deposits.length };
      await run.commit([]);
      return { deposits };
    }),
  ),
  'exceptions.list': command(z.object({ all: z.boolean().optional() }).strict(), async (ctx, a) =>
    runOperatorAction(ctx.services, 'exceptions.list', async (run) => {
      const exceptions = await listMoneyExceptions(ctx.services, a.all ?? false);
      run.facts.detail = { listed: exceptions.length };
      await run.commit([]);
      return { exceptions };
    }),
  ),
  'exceptions.resolve': command(z.object({ exceptionId: z.string().regex(/^exc_[a-z]+_[A-Za-z0-9_-]{1,64}$/, 'not an exception id'), resolution: z.string().min(1).max(500) }).strict(), async (ctx, a) => ({
    exception: await resolveMoneyException(ctx.services, a.exceptionId, a.resolution),
  })),
  // The fleet (docs/operations.md). Its state and alerts name kiosks, never customers: read without a
  // record. `fleet show` lists the kiosk's recent transactions (cards by their last four digits), so it is
  // recorded like the other reads of customers' activity.
  'fleet.list': command(z.object({}).strict(), async (ctx) => fleetOf(ctx).overview()),
  'fleet.show': command(deviceId, async (ctx, a) =>
    runOperatorAction(ctx.services, 'fleet.show', async (run) => {
      run.facts.detail = { deviceId: a.deviceId };
      const detail = await fleetOf(ctx).detail(a.deviceId);
      await run.commit([]);
      return detail;
    }),
  ),
  'fleet.alerts': command(z.object({}).strict(), async (ctx) => ({ nowMs: ctx.services.now(), alerts: fleetOf(ctx).overview().alerts })),
  'fleet.threshold': command(
    z
      .object({ deviceId: deviceId.shape.deviceId, lowCashNotesPerCassette: z.number().int().min(0).max(100_000).optional(), lowCashCents: cents.optional(), reset: z.boolean().optional() })
      .strict()
      .refine((a) => (a.reset === true) !== (a.lowCashNotesPerCassette !== undefined || a.lowCashCents !== undefined), 'give a low-cash threshold in notes or cents, or reset'),
    async (ctx, a) => ({ kiosk: await fleetOf(ctx).setThreshold(a.deviceId, a) }),
  ),
  'operator.add': command(z.object({ name: z.string().min(1).max(64) }).strict(), async (ctx, a) => operatorsOf(ctx).add(a.name)),
  'operator.list': command(z.object({}).strict(), async (ctx) => ({ operators: operatorsOf(ctx).list() })),
  'operator.revoke': command(z.object({ name: z.string().min(1).max(64) }).strict(), async (ctx, a) => ({ operator: await operatorsOf(ctx).revoke(a.name) })),
  'ledger.check': command(z.object({}).strict(), async (ctx) => checkLedger(ctx.services.db)),
  'audit.verify': command(auditVerifyArgs, async (ctx, a) => runAuditVerify(ctx, a)),
  'audit.checkpoint': command(auditCheckpointArgs, async (ctx) => runAuditCheckpoint(ctx)),
  'audit.show': command(auditShowArgs, async (ctx, a) => runAuditShow(ctx, a)),
} satisfies Record<string, AdminCommand<z.ZodTypeAny>>;

/** The host's state always carries the fleet and the operators (host.ts); a bare services bundle does not. */
function fleetOf(ctx: AdminContext) {
  if (ctx.services.fleet === undefined) throw new Error('this host state has no fleet');
  return ctx.services.fleet;
}

function operatorsOf(ctx: AdminContext) {
  if (ctx.services.operators === undefined) throw new Error('this host state has no operator tokens');
  return ctx.services.operators;
}

export type AdminCommandName = keyof typeof ADMIN_COMMANDS;

export function isAdminCommand(name: unknown): name is AdminCommandName {
  return typeof name === 'string' && Object.hasOwn(ADMIN_COMMANDS, name);
}

export async function runAdminCommand(ctx: AdminContext, name: string, args: unknown): Promise<unknown> {
  if (!isAdminCommand(name)) throw new AdminError('UNKNOWN_COMMAND', `unknown admin command ${JSON.stringify(name)}`);
  const spec = ADMIN_COMMANDS[name] as AdminCommand<z.ZodTypeAny>;
  const parsed = spec.args.safeParse(args ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AdminError('BAD_ARGUMENTS', `${name}: ${issue.path.join('.') || 'arguments'}: ${issue.message}`);
  }
  return spec.run(ctx, parsed.data);
}
