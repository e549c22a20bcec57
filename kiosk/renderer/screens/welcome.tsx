import { send, type ScreenProps } from '../atm.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { stringsFor } from '../i18n.js';

/** Language choice starts a session; a swipe here works too (the controller moves to the PIN). */
export function WelcomeScreen({ snap, t, atm }: ScreenProps) {
  return (
    <section class="center">
      <ScreenTitle text={`${stringsFor('en').welcomeTitle} · ${stringsFor('fr').welcomeTitle}`} />
      <p class="lead">{t.welcomeBody}</p>
      <NoticeBanner snap={snap} t={t} />
      <div class="actions big">
        {snap.languages.map((language) => (
          <button type="button" class="primary" lang={language} key={language} data-action={`language-${language}`} onClick={() => send(atm.chooseLanguage(language))}>
            {language === 'en' ? 'English' : 'Français'}
          </button>
        ))}
      </div>
    </section>
  );
}
