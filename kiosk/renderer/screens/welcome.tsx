import { send, type ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { stringsFor } from '../i18n.js';

/** Language choice starts a session; a swipe here works too (the controller moves to the PIN). Shown
 *  before anyone chose a language, so it speaks every language the kiosk offers. */
export function WelcomeScreen({ snap, t, atm }: ScreenProps) {
  return (
    <section class="screen center welcome">
      <ScreenTitle text={snap.languages.map((l) => stringsFor(l).welcomeTitle).join(' · ')} />
      {snap.languages.map((l) => (
        <p class="lead" lang={l} key={l}>
          {stringsFor(l).welcomeBody}
        </p>
      ))}
      <NoticeBanner snap={snap} t={t} />
      <div class="tiles languages">
        {snap.languages.map((language) => (
          <button type="button" class="tile" lang={language} key={language} data-action={`language-${language}`} onClick={() => send(atm.chooseLanguage(language))}>
            <Icon name="globe" />
            {language === 'en' ? 'English' : 'Français'}
          </button>
        ))}
      </div>
    </section>
  );
}
