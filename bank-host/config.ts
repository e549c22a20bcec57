// Host settings that shape customer operations. Loaded from `host.json` in the data folder (or defaults);
// every field is validated, and money is in cents.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const hostConfigSchema = z
  .object({
    currency: z.string().regex(/^[A-Z]{3}$/).default('CAD'),
    /** Whether kiosks may register new customers (demo: on; production default: off). */
    registrationEnabled: z.boolean().default(false),
    maxWithdrawalCents: z.number().int().positive().default(100_000),
    dailyWithdrawalLimitCents: z.number().int().positive().default(100_000),
    /** Withdrawals must be a multiple of the smallest note the kiosks dispense. */
    smallestNoteCents: z.number().int().positive().default(2_000),
    sessionIdleTimeoutMs: z.number().int().min(10_000).max(3_600_000).default(120_000),
    /** A hold with neither completion nor reversal after this long is listed for an operator. */
    holdAttentionAfterMs: z.number().int().positive().default(30 * 60_000),
    maxPinTries: z.number().int().min(1).max(10).default(3),
    /** Idempotency records are kept this long; a retry after that is a new request. */
    idempotencyRetentionMs: z.number().int().positive().default(7 * 24 * 3_600_000),
  })
  .strict();

export type HostConfig = z.infer<typeof hostConfigSchema>;

export const HOST_CONFIG_FILE = 'host.json';

export function defaultHostConfig(overrides: Partial<HostConfig> = {}): HostConfig {
  return hostConfigSchema.parse(overrides);
}

export async function loadHostConfig(dataDir: string): Promise<HostConfig> {
  const file = path.join(dataDir, HOST_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return defaultHostConfig();
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = hostConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
