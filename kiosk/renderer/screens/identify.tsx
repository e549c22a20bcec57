import { useState } from 'preact/hooks';
import { send, type ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { ScreenTitle } from '../components/screen-title.js';
import { CredentialsForm } from './credentials-form.js';

type Step = 'choose' | 'password' | 'register';

/** Card, username + password, or registration. A sign-in refused by the host comes back here with a
 *  notice, on the form the customer used. */
export function IdentifyScreen(props: ScreenProps) {
  const { snap, t, atm, expectWork } = props;
  const initial: Step = snap.identifyMethod === 'password' ? 'password' : snap.identifyMethod === 'register' ? 'register' : 'choose';
  const [step, setStep] = useState<Step>(initial);
  if (snap.identifyMethod === 'card') {
    return (
      <section class="screen center">
        <ScreenTitle text={t.swipeTitle} />
        <SwipePicture />
        <p class="lead">{t.swipeBody}</p>
        <NoticeBanner snap={snap} t={t} />
      </section>
    );
  }
  if (step !== 'choose') {
    return (
      <CredentialsForm
        {...props}
        mode={step}
        onBack={() => setStep('choose')}
        onSubmit={(credentials) => {
          expectWork('sign-in');
          send(step === 'register' ? atm.register(credentials) : atm.beginPasswordSignIn(credentials));
        }}
      />
    );
  }
  return (
    <section class="screen">
      <ScreenTitle text={t.identifyTitle} />
      <NoticeBanner snap={snap} t={t} />
      <div class="tiles three">
        <button type="button" class="tile primary" data-action="use-card" onClick={() => send(atm.beginCardSignIn())}>
          <Icon name="card" />
          {t.useCard}
        </button>
        <button type="button" class="tile" data-action="use-username" onClick={() => setStep('password')}>
          <Icon name="user" />
          {t.useUsername}
        </button>
        <button type="button" class="tile" data-action="register" onClick={() => setStep('register')}>
          <Icon name="plus" />
          {t.registerChoice}
        </button>
      </div>
    </section>
  );
}

/** A card going down through a reader, drawn in its own box so it never covers the words around it (the
 *  card moves inside the picture; still when the system asks for reduced motion). */
function SwipePicture() {
  return (
    <svg class="picture swipe" viewBox="0 0 160 110" aria-hidden="true" focusable="false">
      <rect class="reader" x="10" y="44" width="140" height="22" rx="11" />
      <g class="moving-card">
        <rect class="card-body" x="40" y="6" width="80" height="52" rx="6" />
        <rect class="card-stripe" x="40" y="16" width="80" height="9" />
      </g>
    </svg>
  );
}
