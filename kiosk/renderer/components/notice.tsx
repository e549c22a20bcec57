import type { KioskSnapshot } from '../../preload/api.js';
import { Icon } from './icon.js';
import { formatMoney, noticeText, type Strings } from '../i18n.js';

/** Notices that tell the customer what to do next rather than that something went wrong. */
const INFORMATION_NOTICES: ReadonlySet<string> = new Set(['RECEIPT_PRINTED']);

/** The controller's notice on this screen: a problem is announced at once (role="alert"), information
 *  politely (role="status") and drawn without the error colours. */
export function NoticeBanner({ snap, t }: { snap: KioskSnapshot; t: Strings }) {
  if (!snap.notice) return null;
  const amount = snap.notice.amountCents !== undefined ? ` (${formatMoney(snap.notice.amountCents, snap.language)})` : '';
  const information = INFORMATION_NOTICES.has(snap.notice.code);
  return (
    <p class={information ? 'notice information' : 'notice'} role={information ? 'status' : 'alert'} data-notice={snap.notice.code}>
      <Icon name={information ? 'receipt' : 'alert'} />
      <span>
        {noticeText(t, snap.notice.code)}
        {amount}
      </span>
    </p>
  );
}
