import type { ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';

export function GoodbyeScreen({ snap, t }: ScreenProps) {
  return (
    <section class="screen center">
      <Icon name="check" class="icon hero" />
      <ScreenTitle text={t.goodbyeTitle} />
      <NoticeBanner snap={snap} t={t} />
      <p class="lead">{t.goodbyeBody}</p>
    </section>
  );
}
