// Money as people read it in plain text (receipts, the operator's CLI, the audit log's action line).
// Integer arithmetic only, so no float ever touches an amount. The touchscreen formats with the
// customer's locale instead (kiosk/renderer/i18n.ts), since it shows French as well as English.

/** `$1,234.56` (or `-$5.00`). Throws on anything that is not a whole number of cents. */
export function formatCents(cents: number): string {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`${cents} is not a whole number of cents`);
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const dollars = Math.trunc(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, '0')}`;
}
