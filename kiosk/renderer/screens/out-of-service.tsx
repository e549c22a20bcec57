import type { ScreenProps } from '../atm.js';
import { ScreenTitle } from '../components/screen-title.js';

export function OutOfServiceScreen({ snap, t }: ScreenProps) {
  return (
    <section class="center">
      <ScreenTitle text={t.outOfServiceTitle} />
      <p class="lead">{t.outOfServiceBody}</p>
      {snap.outOfServiceReasons.length > 0 && (
        <p class="detail" lang="en">
          {t.outOfServiceDetail}: {snap.outOfServiceReasons.join('; ')}
        </p>
      )}
    </section>
  );
}
