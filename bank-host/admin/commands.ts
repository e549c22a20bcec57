// Operator commands. One table serves both paths: through the running host's admin socket, and directly on
// the database when the host is stopped. Arguments are validated here, whichever path they came by.
import { z } from 'zod';
import type { DeviceRegistry } from '../devices/registry.js';
import type { HostServices } from '../operations/context.js';

export interface AdminContext {
  readonly services: HostServices;
  readonly registry: DeviceRegistry;
  /** Live figures of a serving host; undefined when the CLI opened the database directly. */
  readonly liveStatus?: () => Record<string, unknown>;
}

export class AdminError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

interface AdminCommand<S extends z.ZodTypeAny> {
  readonly args: S;
  run(ctx: AdminContext, args: z.infer<S>): Promise<unknown>;
}

function command<S extends z.ZodTypeAny>(args: S, run: (ctx: AdminContext, args: z.infer<S>) => Promise<unknown>): AdminCommand<S> {
  return { args, run };
}

const deviceId = z.object({ deviceId: z.string().min(1).max(64) }).strict();

export const ADMIN_COMMANDS = {
  status: command(z.object({}).strict(), async (ctx) => ({
    serving: ctx.liveStatus !== undefined,
    devices: ctx.registry.list().length,
    ...(ctx.liveStatus ? ctx.liveStatus() : {}),
  })),
  'device.add': command(deviceId, async (ctx, { deviceId }) => {
    const key = await ctx.registry.add(deviceId);
    try {
      return { device: ctx.registry.get(deviceId), kSharedHex: key.toString('hex') };
    } finally {
      key.fill(0);
    }
  }),
  'device.list': command(z.object({}).strict(), async (ctx) => ({ devices: ctx.registry.list() })),
  'device.revoke': command(deviceId, async (ctx, { deviceId }) => ({ device: await ctx.registry.revoke(deviceId) })),
  'device.rotate': command(deviceId, async (ctx, { deviceId }) => {
    const key = await ctx.registry.rotate(deviceId);
    try {
      return { device: ctx.registry.get(deviceId), kSharedHex: key.toString('hex') };
    } finally {
      key.fill(0);
    }
  }),
} satisfies Record<string, AdminCommand<z.ZodTypeAny>>;

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
