import { useState } from 'preact/hooks';
import { send, type ScreenProps } from '../atm.js';
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
      <section class="center">
        <ScreenTitle text={t.swipeTitle} />
        <div class="card-slot" aria-hidden="true" />
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
    <section>
      <ScreenTitle text={t.identifyTitle} />
      <NoticeBanner snap={snap} t={t} />
      <div class="choices">
        <button type="button" class="primary" data-action="use-card" onClick={() => send(atm.beginCardSignIn())}>
          {t.useCard}
        </button>
        <button type="button" class="primary" data-action="use-username" onClick={() => setStep('password')}>
          {t.useUsername}
        </button>
        <button type="button" data-action="register" onClick={() => setStep('register')}>
          {t.registerChoice}
        </button>
      </div>
    </section>
  );
}
