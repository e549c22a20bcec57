// What a withdrawal or a deposit needs of the controller, gathered in one place: the channel, the devices,
// the journal, the deadlines and the test hooks. The withdraw and deposit flows and recovery ask for these
// each time they start, so a restarted channel or a reopened journal is always the one they get.
import type { ChannelClient } from '../../protocol/client.js';
import type { Logger } from '../../protocol/log.js';
import { formatCents } from '../../protocol/money.js';
import type { DepositCrashPoint, DepositDeadlines, DepositDeps } from './deposit.js';
import type { KioskDevices } from './devices.js';
import type { KioskJournal } from './journal.js';
import type { DepositRecoveryDeps } from './recovery.js';
import type { ServiceState } from './service-state.js';
import type { WithdrawalCrashPoint, WithdrawalDeadlines, WithdrawalDeps } from './withdrawal.js';

export interface MoneyDepsSources {
  readonly client: () => ChannelClient;
  readonly devices: () => KioskDevices;
  /** The devices if they are open (recovery may run before they are). */
  readonly openDevices: () => KioskDevices | undefined;
  readonly journal: () => KioskJournal | undefined;
  readonly service: () => ServiceState;
  readonly log: Logger;
  readonly now: () => number;
  readonly noteAcceptorCents: readonly number[];
  readonly withdrawalDeadlines?: Partial<WithdrawalDeadlines> | undefined;
  readonly depositDeadlines?: Partial<DepositDeadlines> | undefined;
  /** Speech mode's time to take presented notes while speech mode is on; undefined otherwise. */
  readonly speechCashTakeMs: () => number | undefined;
  /** Test hooks: called at each step of a withdrawal or a deposit (power-loss tests stop the kiosk there). */
  readonly onWithdrawalStep?: ((point: WithdrawalCrashPoint) => void) | undefined;
  readonly onDepositStep?: ((point: DepositCrashPoint) => void) | undefined;
}

export class MoneyDeps {
  constructor(private readonly from: MoneyDepsSources) {}

  withdrawal(onStep?: (point: WithdrawalCrashPoint) => void): WithdrawalDeps {
    const { from } = this;
    return {
      client: from.client(),
      dispenser: from.devices().dispenser,
      journal: from.journal()!,
      log: from.log.child({ component: 'withdrawal' }),
      now: from.now,
      deadlines: from.withdrawalDeadlines,
      speechCashTakeMs: from.speechCashTakeMs,
      onSettledByOperator: (record) => {
        from.service().noteSettledByOperator(
          `settled-by-operator: withdrawal ${record.authorizationId ?? record.withdrawalId}, ${formatCents(record.dispensedCents ?? 0)} dispensed; recorded at the host as an exception`,
        );
        from.service().emitState();
      },
      onStep: (point) => {
        onStep?.(point);
        from.onWithdrawalStep?.(point);
      },
    };
  }

  deposit(): DepositDeps {
    const { from } = this;
    return {
      client: from.client(),
      journal: from.journal()!,
      log: from.log.child({ component: 'deposit' }),
      now: from.now,
      acceptedCents: from.noteAcceptorCents,
      deadlines: from.depositDeadlines,
      onStep: from.onDepositStep,
    };
  }

  depositRecovery(): DepositRecoveryDeps {
    return { ...this.deposit(), acceptor: this.from.openDevices()?.noteAcceptor };
  }
}
