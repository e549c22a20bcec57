import type { ScreenProps } from '../atm.js';
import type { WorkKind } from '../atm.js';
import { ScreenTitle } from '../components/screen-title.js';

export function WorkingScreen({ t, work }: ScreenProps & { work: WorkKind | undefined }) {
  const text = work === 'sign-in' ? t.workingSignIn : work === 'withdraw' ? t.workingWithdraw : work === 'print' ? t.workingPrint : work === 'request' ? t.workingRequest : t.working;
  return (
    <section class="screen center" aria-busy="true">
      <div class="spinner" aria-hidden="true" />
      <ScreenTitle text={text} />
    </section>
  );
}
