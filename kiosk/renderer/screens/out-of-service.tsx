import type { ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { ScreenTitle } from '../components/screen-title.js';
import { stringsFor } from '../i18n.js';

/** Shown only when no customer is at the kiosk, so, like the welcome screen, it speaks every language
 *  the kiosk offers. The reasons are for the technician and stay in English. */
export function OutOfServiceScreen({ snap, t }: ScreenProps) {
  const languages = snap.languages.length > 0 ? snap.languages : [snap.language];
  return (
    <section class="screen center">
      <Icon name="alert" class="icon hero" />
      <ScreenTitle text={languages.map((l) => stringsFor(l).outOfServiceTitle).join(' · ')} />
      {languages.map((l) => (
        <p class="lead" lang={l} key={l}>
          {stringsFor(l).outOfServiceBody}
        </p>
      ))}
      {snap.outOfServiceReasons.length > 0 && (
        <p class="detail" lang="en">
          {t.outOfServiceDetail}: {snap.outOfServiceReasons.join('; ')}
        </p>
      )}
    </section>
  );
}
