import { useRef, useState } from 'preact/hooks';
import type { Credentials } from '../../preload/api.js';
import type { ScreenProps } from '../atm.js';
import { Icon } from '../components/icon.js';
import { NoticeBanner } from '../components/notice.js';
import { OnScreenKeyboard } from '../components/on-screen-keyboard.js';
import { ScreenTitle } from '../components/screen-title.js';

/** Same bounds as the controller's; the host checks the username rule and password policy. */
const USERNAME_CHARS_MAX = 32;
const PASSWORD_CHARS_MAX = 128;

type Field = 'username' | 'password';

/** Username and password with the on-screen keyboard typing into whichever field is active. Real
 *  inputs, so a physical keyboard and screen readers work as usual; `inputmode="none"` keeps a tablet's
 *  own keyboard away. */
export function CredentialsForm({ snap, t, mode, onBack, onSubmit }: ScreenProps & { mode: 'password' | 'register'; onBack: () => void; onSubmit: (c: Credentials) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [active, setActive] = useState<Field>('username');
  const [reveal, setReveal] = useState(false);
  const usernameRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  const typeKey = (key: string) => {
    const [value, set, max] = active === 'username' ? [username, setUsername, USERNAME_CHARS_MAX] : [password, setPassword, PASSWORD_CHARS_MAX];
    if (key === 'Backspace') set(value.slice(0, -1));
    else if (value.length < max) set(value + (active === 'username' ? key.toLowerCase() : key));
  };
  const canSubmit = username.length > 0 && password.length > 0;
  const submit = (event: Event) => {
    event.preventDefault();
    if (!canSubmit) return;
    onSubmit({ username, password });
  };
  return (
    <form class="screen credentials" onSubmit={submit} autocomplete="off">
      <div class="title-row">
        <ScreenTitle text={mode === 'register' ? t.registerTitle : t.signInTitle} step={mode} />
        {/* Beside the title rather than under the keyboard: on a 480-pixel-high screen there is no room below it. */}
        <span class="actions">
          <button type="button" data-action="back" onClick={onBack}>
            <Icon name="back" />
            {t.back}
          </button>
          <button type="submit" class="primary" disabled={!canSubmit} data-action="submit-credentials">
            {mode === 'register' ? t.registerSubmit : t.signIn}
            <Icon name="next" />
          </button>
        </span>
      </div>
      {/* A refusal says what to fix, so it takes the place of the rules rather than adding a line. */}
      {snap.notice ? <NoticeBanner snap={snap} t={t} /> : mode === 'register' && <p class="hint">{t.registerBody}</p>}
      <div class="fields">
        <label class={active === 'username' ? 'field username active' : 'field username'}>
          <span>{t.username}</span>
          <input
            ref={usernameRef}
            name="username"
            value={username}
            maxLength={USERNAME_CHARS_MAX}
            inputMode="none"
            autoCapitalize="none"
            spellcheck={false}
            onFocus={() => setActive('username')}
            onInput={(e) => setUsername((e.currentTarget as HTMLInputElement).value.toLowerCase())}
          />
        </label>
        <label class={active === 'password' ? 'field password active' : 'field password'}>
          <span>{t.password}</span>
          <input
            ref={passwordRef}
            name="password"
            type={reveal ? 'text' : 'password'}
            value={password}
            maxLength={PASSWORD_CHARS_MAX}
            inputMode="none"
            onFocus={() => setActive('password')}
            onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="button" class="reveal" aria-pressed={reveal} aria-label={reveal ? t.hidePassword : t.showPassword} onClick={() => setReveal(!reveal)}>
          <Icon name="eye" />
        </button>
      </div>
      <OnScreenKeyboard t={t} onKey={typeKey} />
    </form>
  );
}
