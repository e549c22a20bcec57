// Test fixture run as a child process by power-loss-replenishment.test.ts: a kiosk that signs a technician
// in with their card and PIN, unloads and counts the cassettes and the cashbox, loads new cassettes and
// closes, and SIGKILLs itself at the replenishment step and point named in its parameters, the nearest
// thing to pulling the plug.
import { parseKioskConfig, type KioskConfigInput } from '../../../kiosk/core/config.js';
import { KioskController } from '../../../kiosk/core/kiosk.js';
import type { ReplenishmentCrashPoint } from '../../../kiosk/core/replenishment/replenisher.js';
import type { ReplenishmentStep } from '../../../kiosk/core/replenishment/replenishment-journal.js';
import type { SimulatedCardReader } from '../../../kiosk/devices/card-reader/card-reader-simulator.js';
import type { PinPadKey, SimulatedPinPad } from '../../../kiosk/devices/pin-pad/pin-pad-simulator.js';

export interface ReplenishmentPowerLossParams {
  readonly config: KioskConfigInput;
  readonly kSharedHex: string;
  readonly card: { readonly pan: string; readonly pin: string; readonly expiresYm: string };
  /** The new cassettes' notes, cassette 0 first. */
  readonly loadCounts: readonly number[];
  readonly crashStep: ReplenishmentStep;
  readonly crashAt: ReplenishmentCrashPoint;
}

export const REPLENISHMENT_POWER_LOSS_PARAMS_ENV = 'KIOSK_REPLENISHMENT_POWER_LOSS_PARAMS';

async function waitFor(kiosk: KioskController, what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached: ${JSON.stringify(kiosk.snapshot())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  const params = JSON.parse(process.env[REPLENISHMENT_POWER_LOSS_PARAMS_ENV] ?? '') as ReplenishmentPowerLossParams;
  const config = parseKioskConfig(params.config);
  const kiosk = new KioskController({
    config,
    kShared: Buffer.from(params.kSharedHex, 'hex'),
    clientLimits: { reconnectDelayMinMs: 20, reconnectDelayMaxMs: 200 },
    deviceCheckIntervalMs: 200,
    onReplenishmentStep: (point, step) => {
      if (point === params.crashAt && step === params.crashStep) process.kill(process.pid, 'SIGKILL');
    },
  });
  await kiosk.start();
  await waitFor(kiosk, 'welcome', () => kiosk.snapshot().screen === 'welcome');
  kiosk.beginCardSignIn();
  const [year, month] = params.card.expiresYm.split('-').map(Number) as [number, number];
  (kiosk.devices.cardReader as SimulatedCardReader).swipe({ pan: params.card.pan, expiry: { year, month } });
  await waitFor(kiosk, 'pin', () => kiosk.snapshot().screen === 'pin');
  (kiosk.devices.pinPad as SimulatedPinPad).press(...([...params.card.pin] as PinPadKey[]), 'enter');
  await waitFor(kiosk, 'supervisor mode', () => kiosk.snapshot().screen === 'supervisor');
  const mode = kiosk.supervisorMode;
  const found = kiosk.status().cassettes;
  mode.beginCount('unload-cassettes');
  await mode.submitCount({ step: 'unload-cassettes', notes: found.map((c) => ({ denominationCents: c.denominationCents, count: c.count })) });
  mode.beginCount('unload-cashbox');
  await mode.submitCount({ step: 'unload-cashbox', notes: kiosk.status().noteAcceptor?.cashbox ?? [] });
  mode.beginCount('load-cassettes');
  await mode.submitCount({ step: 'load-cassettes', notes: config.cassettes.map((c, i) => ({ denominationCents: c.denominationCents, count: params.loadCounts[i] ?? 0 })) });
  await mode.close();
  // Reaching here means the crash point was never hit: the parent reports it.
  process.stdout.write(`finished without crashing: ${JSON.stringify(kiosk.snapshot())}\n`);
  await kiosk.stop();
}

if (process.env[REPLENISHMENT_POWER_LOSS_PARAMS_ENV]) {
  main().catch((error: unknown) => {
    process.stderr.write(`replenishment power-loss fixture failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
