import type { KioskSnapshot } from '../../preload/api.js';
import { formatMoney, noticeText, type Strings } from '../i18n.js';

/** The controller's notice on this screen, announced at once (role="alert"). */
export function NoticeBanner({ snap, t }: { snap: KioskSnapshot; t: Strings }) {
  if (!snap.notice) return null;
  const amount = snap.notice.amountCents !== undefined ? ` (${formatMoney(snap.notice.amountCents, snap.language)})` : '';
  return (
    <p class="notice" role="alert" data-notice={snap.notice.code}>
      {noticeText(t, snap.notice.code)}
      {amount}
    </p>
  );
}
