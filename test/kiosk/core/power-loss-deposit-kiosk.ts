// Test fixture run as a child process by power-loss-deposit.test.ts: a kiosk that signs a customer in,
// opens a deposit, takes the notes the test inserts into the acceptor simulator, presses Done, and
// SIGKILLs itself at the deposit step named in its parameters (at the second note for the steps each
// note goes through), the nearest thing to pulling the plug.
import { parseKioskConfig, type KioskConfigInput } from '../../../kiosk/core/config.js';
import type { DepositCrashPoint } from '../../../kiosk/core/deposit.js';
import { KioskController } from '../../../kiosk/core/kiosk.js';

export interface DepositPowerLossParams {
  readonly config: KioskConfigInput;
  readonly kSharedHex: string;
  readonly username: string;
  readonly password: string;
  /** The deposit's total once every note the test inserts is counted. */
  readonly totalCents: number;
  readonly crashAt: DepositCrashPoint;
}

export const DEPOSIT_POWER_LOSS_PARAMS_ENV = 'KIOSK_DEPOSIT_POWER_LOSS_PARAMS';
/** Steps each note goes through: the kiosk dies at the second note's, after the first is in. */
export const PER_NOTE_POINTS: ReadonlySet<DepositCrashPoint> = new Set(['note-in-escrow', 'journalled-stacking', 'note-stacked', 'journalled-stacked']);

async function main(): Promise<void> {
  const params = JSON.parse(process.env[DEPOSIT_POWER_LOSS_PARAMS_ENV] ?? '') as DepositPowerLossParams;
  let seen = 0;
  const kiosk = new KioskController({
    config: parseKioskConfig(params.config),
    kShared: Buffer.from(params.kSharedHex, 'hex'),
    clientLimits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200 },
    deviceCheckIntervalMs: 200,
    onDepositStep: (point) => {
      if (point !== params.crashAt) return;
      seen++;
      if (!PER_NOTE_POINTS.has(point) || seen === 2) process.kill(process.pid, 'SIGKILL');
    },
  });
  await kiosk.start();
  const reasons = kiosk.outOfServiceReasons();
  if (reasons.length > 0) throw new Error(`kiosk out of service: ${reasons.join('; ')}`);
  // As a customer would: only once the menu offers a deposit (the acceptor answered and was checked).
  const readyBy = Date.now() + 10_000;
  while (!kiosk.snapshot().depositAvailable) {
    if (Date.now() > readyBy) throw new Error(`deposits never offered: ${JSON.stringify(kiosk.status())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await kiosk.beginPasswordSignIn(params.username, params.password);
  await kiosk.selectMenu('deposit');
  await kiosk.beginDeposit();
  process.stdout.write('deposit open\n');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const view = kiosk.snapshot().view;
    if (view?.kind === 'deposit-counting' && view.totalCents === params.totalCents && !view.counting) break;
    if (Date.now() > deadline) throw new Error(`the notes were not counted: ${JSON.stringify(kiosk.snapshot())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await kiosk.depositDone();
  // Reaching here means the crash point was never hit: the parent reports it.
  process.stdout.write(`finished without crashing: ${JSON.stringify(kiosk.snapshot())}\n`);
  await kiosk.stop();
}

if (process.env[DEPOSIT_POWER_LOSS_PARAMS_ENV]) {
  main().catch((error: unknown) => {
    process.stderr.write(`deposit power-loss fixture failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
