// Test fixture run as a child process by power-loss.test.ts: a kiosk that signs a customer in, withdraws,
// and SIGKILLs itself at the withdrawal step named in its parameters (the nearest thing to pulling the
// plug: no exit handlers, no flushing, nothing after the kill runs).
import { parseKioskConfig, type KioskConfigInput } from '../../../kiosk/core/config.js';
import { KioskController } from '../../../kiosk/core/kiosk.js';
import type { WithdrawalCrashPoint } from '../../../kiosk/core/withdrawal.js';

export interface PowerLossParams {
  readonly config: KioskConfigInput;
  readonly kSharedHex: string;
  readonly username: string;
  readonly password: string;
  readonly amountCents: number;
  readonly crashAt: WithdrawalCrashPoint;
  /** How long presented notes wait before they are retracted (the retract steps' runs shorten it). */
  readonly cashTakeTimeoutMs?: number;
}

export const POWER_LOSS_PARAMS_ENV = 'KIOSK_POWER_LOSS_PARAMS';

async function main(): Promise<void> {
  const text = process.env[POWER_LOSS_PARAMS_ENV] ?? '';
  const params = JSON.parse(text) as PowerLossParams;
  const kiosk = new KioskController({
    config: parseKioskConfig(params.config),
    kShared: Buffer.from(params.kSharedHex, 'hex'),
    clientLimits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200 },
    ...(params.cashTakeTimeoutMs !== undefined ? { withdrawalDeadlines: { cashTakeTimeoutMs: params.cashTakeTimeoutMs } } : {}),
    onWithdrawalStep: (point) => {
      if (point === params.crashAt) process.kill(process.pid, 'SIGKILL');
    },
  });
  await kiosk.start();
  const reasons = kiosk.outOfServiceReasons();
  if (reasons.length > 0) throw new Error(`kiosk out of service: ${reasons.join('; ')}`);
  await kiosk.beginPasswordSignIn(params.username, params.password);
  await kiosk.selectMenu('withdraw');
  await kiosk.withdraw(params.amountCents);
  // Reaching here means the crash point was never hit: the parent reports it.
  process.stdout.write(`finished without crashing: ${JSON.stringify(kiosk.snapshot())}\n`);
  await kiosk.stop();
}

// Runs only as the child (the test imports this module for its types and constant).
if (process.env[POWER_LOSS_PARAMS_ENV]) {
  main().catch((error: unknown) => {
    process.stderr.write(`power-loss fixture failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
