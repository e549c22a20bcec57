// The console's only way out: GETs of its own JSON API, with the session cookie. A 401 means the session
// ended (timed out, signed out elsewhere, its token revoked): back to the sign-in page, saying so.
import { useEffect, useState } from 'preact/hooks';

export class SignedOut extends Error {}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (response.status === 401) {
    location.assign('/login?ended');
    throw new SignedOut('the session has ended');
  }
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return (await response.json()) as T;
}

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
}

/** `path` now and every `intervalMs` while the page shows it; a failed fetch keeps the last data and says
 *  why. */
export function usePolling<T>(path: string, intervalMs: number): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: undefined, error: undefined });
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const tick = async () => {
      try {
        const data = await getJson<T>(path);
        if (!stopped) setState({ data, error: undefined });
      } catch (error) {
        if (error instanceof SignedOut) return;
        if (!stopped) setState((s) => ({ data: s.data, error: error instanceof Error ? error.message : String(error) }));
      }
      if (!stopped) timer = window.setTimeout(() => void tick(), intervalMs);
    };
    setState({ data: undefined, error: undefined });
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [path, intervalMs]);
  return state;
}
