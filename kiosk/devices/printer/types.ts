// What the rest of the kiosk sees of the receipt printer.

export type PaperState = 'ok' | 'near-end' | 'out';

export interface PrinterStatus {
  /** False when the printer reports itself offline (cover open, paper out, error). */
  online: boolean;
  paper: PaperState;
}

export type PrinterAvailability = 'closed' | 'available' | 'unavailable';

export interface ReceiptPrinter {
  open(): Promise<void>;
  close(): Promise<void>;
  status(): Promise<PrinterStatus>;
  /**
   * Prints one receipt and cuts it. Checks status first and refuses with
   * `DeviceError('PRINTER_OUT_OF_PAPER' | 'PRINTER_OFFLINE')` without printing anything. Text is
   * reduced to what the printer can print (Latin-1); long lines wrap at the paper width. Resolves
   * with the status read after the cut, so a caller can warn about paper near its end.
   */
  print(lines: string[]): Promise<PrinterStatus>;
  readonly availability: PrinterAvailability;
  onAvailabilityChange(listener: (availability: PrinterAvailability, reason: string) => void): () => void;
}
