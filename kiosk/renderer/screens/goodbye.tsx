import type { ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';

/** Notices that end a visit because the card cannot be used: the screen says so in its title, with no
 *  "Thank you" beside it. */
const CARD_REFUSED: ReadonlySet<string> = new Set(['CARD_BLOCKED']);

export function GoodbyeScreen({ snap, t }: ScreenProps) {
  if (snap.notice && CARD_REFUSED.has(snap.notice.code)) {
    return (
      <section class="screen center" data-variant="card-blocked">
        <Icon name="alert" class="icon hero alert" />
        <ScreenTitle text={t.cardBlockedTitle} />
        <p class="lead">{t.cardBlockedBody}</p>
      </section>
    );
  }
  return (
    <section class="screen center">
      <Icon name="check" class="icon hero" />
      <ScreenTitle text={t.goodbyeTitle} />
      <NoticeBanner snap={snap} t={t} />
      {/* A notice already says why the session ended: "ended" is said once. */}
      <p class="lead">{snap.notice ? t.goodbyeThanks : t.goodbyeBody}</p>
    </section>
  );
}
