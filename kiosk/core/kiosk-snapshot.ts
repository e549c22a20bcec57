// What the UI renders (`KioskSnapshot`), composed from the controller's parts: the customer's session, the
// service state and the devices. Fast-cash amounts are only those the cassettes can pay and the day's limit
// allows; the limits the amount screen checks come with a customer only.
import { payableAmounts } from '../../protocol/note-plan.js';
import type { KioskConfig } from './config.js';
import type { DeviceSupervisor } from './device-supervisor.js';
import type { ServiceState } from './service-state.js';
import type { CustomerSession } from './session.js';
import type { KioskSnapshot } from './ui-contract.js';

export interface SnapshotParts {
  readonly session: CustomerSession;
  readonly config: KioskConfig;
  readonly supervisor: DeviceSupervisor;
  readonly service: ServiceState;
  /** The digits are touched on the screen (the demo's on-screen PIN pad). */
  readonly onScreenPinPad: boolean;
}

export function composeSnapshot({ session: s, config, supervisor, service, onScreenPinPad }: SnapshotParts): KioskSnapshot {
  const remaining = s.customer?.dailyWithdrawalRemainingCents;
  const fastCashCents = s.customer ? payableAmounts(config.fastCashCents, supervisor.cassettes).filter((cents) => remaining === undefined || cents <= remaining) : [];
  return {
    screen: s.screen,
    language: s.language,
    languages: s.languages,
    outOfServiceReasons: service.reasons(),
    ...(s.identifyMethod ? { identifyMethod: s.identifyMethod } : {}),
    pinDigits: s.pinDigits,
    ...(s.pinChangeStep ? { pinChangeStep: s.pinChangeStep } : {}),
    onScreenPinPad,
    idleWarning: s.idleWarning,
    ...(s.idleWarning ? { idleWarningSeconds: s.idleWarningSeconds } : {}),
    ...(s.notice ? { notice: s.notice } : {}),
    ...(s.customer ? { customer: s.customer } : {}),
    fastCashCents,
    receiptAvailable: supervisor.printerReady(),
    withdrawalAvailable: service.withdrawalAvailable(),
    depositAvailable: service.depositAvailable(),
    ...(s.customer ? { withdrawalLimits: { cassettes: supervisor.cassettes.map((c) => ({ denominationCents: c.denominationCents, count: c.count })) } } : {}),
    ...(s.view ? { view: s.view } : {}),
  };
}
