// What operators see of the fleet: the JSON the admin commands (`bank-host fleet ... --json`) and the
// operator console's API answer. Plain data with no imports, so the console's browser code (which may not
// import Node) reads the same types. Money is integer cents; times are milliseconds since the epoch (host
// clock). Nothing here is a secret, and no PAN appears in full: a card is its last four digits at most.

/** A kiosk's state as the host derives it from its reports: `offline` when its last report is older than
 *  the host's `kioskOfflineAfterMs`, `never-reported` when it has never reported since it was enrolled. */
export type KioskState = 'in-service' | 'out-of-service' | 'offline' | 'never-reported';
export const KIOSK_STATES: readonly KioskState[] = ['in-service', 'out-of-service', 'offline', 'never-reported'];

export type AlertKind =
  | 'offline'
  | 'out-of-service'
  | 'device-fault'
  | 'low-cash'
  | 'cashbox-nearly-full'
  | 'paper-low'
  | 'paper-out'
  | 'stale-holds'
  | 'open-deposits'
  | 'money-exceptions'
  | 'unbalanced';

export type AlertSeverity = 'critical' | 'warning';

export interface AlertView {
  readonly deviceId: string;
  readonly kind: AlertKind;
  /** What in the kiosk the alert is about, when a kiosk can have several of the kind (the faulty device). */
  readonly subject?: string;
  readonly severity: AlertSeverity;
  readonly raisedMs: number;
  /** The facts as they stand (the kiosk's own reasons, counts), in words, never a secret. */
  readonly detail: string;
}

export interface CassetteView {
  readonly denominationCents: number;
  readonly count: number;
}

export interface CashboxView {
  readonly notes: number;
  readonly capacityNotes: number;
  /** Whole percent of capacity, 0-100 (a cashbox reported over capacity shows 100). */
  readonly fillPercent: number;
}

/** The low-cash rule in force for a kiosk: its own, set by an operator, or the host's default. */
export interface LowCashThresholdView {
  readonly lowCashNotesPerCassette: number;
  readonly lowCashCents: number;
  readonly source: 'kiosk' | 'host';
}

export interface KioskView {
  readonly deviceId: string;
  readonly state: KioskState;
  /** Whether the kiosk has a channel connection to this host now; null when the host is not serving
   *  (the CLI read a stopped host's store). */
  readonly connected: boolean | null;
  /** When the host received the kiosk's last report (a heartbeat counts); null before the first. */
  readonly lastReportMs: number | null;
  readonly softwareVersion: string | null;
  readonly inService: boolean | null;
  readonly reasons: readonly string[];
  readonly devices: readonly { readonly device: string; readonly state: string; readonly detail?: string }[];
  readonly cassettes: readonly CassetteView[];
  /** Value of the notes in the cassettes, as the kiosk last reported them. */
  readonly cashCents: number;
  readonly cashbox: CashboxView | null;
  readonly receiptPaper: string | null;
  readonly pendingTransactions: number | null;
  readonly threshold: LowCashThresholdView;
  readonly alerts: readonly AlertView[];
}

export interface FleetOverview {
  readonly nowMs: number;
  readonly counts: Readonly<Record<KioskState, number>>;
  /** Every active alert, critical first, then oldest first. */
  readonly alerts: readonly AlertView[];
  /** Every enrolled, unrevoked kiosk, by id. */
  readonly kiosks: readonly KioskView[];
}

/** One movement of cash at a kiosk, from its cassettes' or cashbox's ledger account. */
export interface TransactionView {
  readonly postingId: string;
  readonly kind: string;
  readonly amountCents: number;
  readonly timestampMs: number;
  /** The card's last four digits, when a card was used and the host knows it. */
  readonly cardLast4?: string;
}

export interface HourCount {
  /** Start of the hour (UTC). */
  readonly hourMs: number;
  readonly withdrawals: number;
  readonly deposits: number;
}

/** One sample of a kiosk's cash levels. */
export interface CashPointView {
  readonly timestampMs: number;
  readonly cashCents: number;
  readonly cassetteNotes: readonly number[];
  readonly cashboxNotes: number | null;
}

/** A count of one kiosk's containers against their ledger accounts (the supervisor mode's balancing
 *  report; see bank-host/fleet/balancing.ts). */
export interface BalancingView {
  readonly deviceId: string;
  readonly balancedMs: number;
  readonly containers: readonly { readonly container: 'cassettes' | 'cashbox'; readonly countedCents: number; readonly ledgerCents: number; readonly differenceCents: number }[];
  /** It has a difference (or is unreadable) and no operator resolved it. */
  readonly unbalanced: boolean;
  /** An operator resolved its difference (`bank-host fleet resolve`): when, and their note. */
  readonly resolvedMs?: number;
  readonly resolution?: string;
}

export interface KioskDetail {
  readonly nowMs: number;
  readonly kiosk: KioskView;
  readonly recentTransactions: readonly TransactionView[];
  readonly transactionsPerHour: readonly HourCount[];
  readonly cashHistory: readonly CashPointView[];
  readonly lastBalancing: BalancingView | null;
}

export interface FleetActivity {
  readonly nowMs: number;
  /** The last 24 hours, oldest first, every kiosk together. */
  readonly transactionsPerHour: readonly HourCount[];
}
