// The receipt question after a transaction: the flow that moved money offers the facts of its receipt;
// the customer's answer prints them (when the printer can), then "Another transaction?" either way.
import { describe } from '../../common/errors.js';
import type { PrinterStatus } from '../../devices/printer/types.js';
import { isDeviceError } from '../../devices/serial/device-error.js';
import { requireScreen } from '../command-checks.js';
import { composeReceipt, type ReceiptFacts } from '../receipt.js';
import type { Notice } from '../ui-contract.js';
import type { FlowContext } from './context.js';

/** What the receipt choice needs to know of the printer (the device supervisor keeps it). */
export interface PrinterReadiness {
  printerReady(): boolean;
  notePrinterStatus(status: PrinterStatus | undefined): void;
}

/** What a transaction adds to the facts every receipt has (kiosk, time, customer, amount). */
export type ReceiptDetails = Omit<ReceiptFacts, 'kioskId' | 'bankName' | 'nowMs' | 'timeZone' | 'transaction' | 'amountCents' | 'cardLast4' | 'username'>;

export class ReceiptChoice {
  /** The last transaction's receipt, until the customer answers or the visit ends. */
  private facts: ReceiptFacts | undefined;

  constructor(
    private readonly ctx: FlowContext,
    private readonly printer: PrinterReadiness,
  ) {
    ctx.visit.onEnd(() => {
      this.facts = undefined;
    });
  }

  /** Keeps the receipt of the transaction that just ended; the caller then shows the receipt screen. */
  offer(transaction: ReceiptFacts['transaction'], amountCents: number, details: ReceiptDetails): void {
    this.facts = this.factsOf(transaction, amountCents, details);
  }

  /** Prints the receipt of a transaction the customer asked one for beforehand (a withdrawal: chosen on
   *  its confirmation); what the customer is told about it. */
  async printNow(transaction: ReceiptFacts['transaction'], amountCents: number, details: ReceiptDetails): Promise<Notice> {
    if (!this.printer.printerReady()) return { code: 'RECEIPT_UNAVAILABLE' };
    return this.print(this.factsOf(transaction, amountCents, details));
  }

  /** A balance inquiry printed from the balance screen: the accounts shown, as the host last gave them;
   *  the customer stays on the balance screen, told whether it printed. */
  async printBalance(): Promise<void> {
    const { session } = this.ctx;
    requireScreen(session, 'balance');
    const accounts = (session.customer?.accounts ?? []).map((a) => ({ accountId: a.accountId, balanceCents: a.balanceCents, availableCents: a.availableCents }));
    await this.ctx.visit.operate(async (epoch) => {
      const notice = await this.printNow('balance', 0, { accounts });
      if (this.ctx.visit.isCurrent(epoch)) session.go('balance', notice);
    });
  }

  private factsOf(transaction: ReceiptFacts['transaction'], amountCents: number, details: ReceiptDetails): ReceiptFacts {
    const customer = this.ctx.session.customer;
    return {
      kioskId: this.ctx.config.deviceId,
      bankName: this.ctx.config.bankName,
      nowMs: this.ctx.now(),
      timeZone: this.ctx.config.timeZone,
      transaction,
      amountCents,
      ...(customer?.cardLast4 ? { cardLast4: customer.cardLast4 } : customer ? { username: customer.username } : {}),
      ...details,
    };
  }

  async choose(wanted: boolean): Promise<void> {
    const { ctx } = this;
    requireScreen(ctx.session, 'receipt');
    const facts = this.facts;
    this.facts = undefined;
    if (!wanted || !facts) {
      ctx.session.go('another-transaction');
      return;
    }
    if (!this.printer.printerReady()) {
      ctx.session.go('another-transaction', { code: 'RECEIPT_UNAVAILABLE' });
      return;
    }
    await ctx.visit.operate(async (epoch) => {
      const notice = await this.print(facts);
      if (ctx.visit.isCurrent(epoch)) ctx.session.go('another-transaction', notice);
    });
  }

  /** Prints a receipt now; what the customer is told about it. */
  private async print(facts: ReceiptFacts): Promise<Notice> {
    const { ctx } = this;
    try {
      const status = await ctx.devices().printer.print(composeReceipt({ ...facts, nowMs: ctx.now() }));
      this.printer.notePrinterStatus(status);
      // The printer's paper running low is for the technician (device status), not the customer.
      return { code: 'RECEIPT_PRINTED' };
    } catch (error) {
      ctx.log.warn('receipt not printed', { error: describe(error) });
      const code = isDeviceError(error) ? error.code : 'RECEIPT_UNAVAILABLE';
      if (code === 'PRINTER_OUT_OF_PAPER') this.printer.notePrinterStatus({ online: false, paper: 'out' });
      return { code };
    }
  }
}
