import type { KioskSnapshot, Notice } from '../../preload/api.js';
import { Icon } from './icon.js';
import { formatMoney, listNotes, noticeText, type Strings } from '../i18n.js';

/** Notices that tell the customer what to do next, or that something went well, rather than that
 *  something went wrong. */
const INFORMATION_NOTICES: ReadonlySet<string> = new Set(['RECEIPT_PRINTED', 'DEPOSIT_CREDITED', 'NOTE_RETURNED', 'PIN_CHANGED', 'COUNTERS_PRINTED', 'COUNT_BALANCED', 'CASSETTES_LOADED', 'REPLENISHMENT_CLOSED']);

/** A notice on this screen: the controller's (`snap.notice`), or one the screen found itself (`notice`,
 *  null for none). A problem is announced at once (role="alert"), information politely (role="status")
 *  and drawn without the error colours. */
export function NoticeBanner({ snap, t, notice = snap.notice }: { snap: KioskSnapshot; t: Strings; notice?: Notice | null | undefined }) {
  if (!notice) return null;
  const currency = snap.customer?.accounts[0]?.currency;
  const figures = {
    amount: notice.amountCents !== undefined ? formatMoney(notice.amountCents, snap.language, currency) : undefined,
    notes: notice.notesCents !== undefined && notice.notesCents.length > 0 ? listNotes(t, notice.notesCents, snap.language, currency) : undefined,
  };
  const information = INFORMATION_NOTICES.has(notice.code);
  return (
    <p class={information ? 'notice information' : 'notice'} role={information ? 'status' : 'alert'} data-notice={notice.code}>
      <Icon name={information ? 'receipt' : 'alert'} />
      <span>{noticeText(t, notice.code, figures)}</span>
    </p>
  );
}
