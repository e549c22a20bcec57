// The console's frame: who is signed in, signing out (a form POST: the console's only state change is the
// session's own), and which page the address names.
import { useEffect, useState } from 'preact/hooks';
import { usePolling } from './api.js';
import { KioskPage } from './kiosk-page.js';
import { OverviewPage } from './overview.js';

const route = () => {
  const match = /^#\/kiosks\/([a-z0-9][a-z0-9-]{2,62})$/.exec(location.hash);
  return match ? { page: 'kiosk' as const, deviceId: match[1]! } : { page: 'fleet' as const };
};

export function App() {
  const [where, setWhere] = useState(route);
  useEffect(() => {
    const onHash = () => setWhere(route());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const session = usePolling<{ operator: string }>('/api/session', 60_000);
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          Bank host console
        </a>
        <div class="who">
          {session.data ? <span>Signed in as {session.data.operator}</span> : null}
          <form method="post" action="/logout">
            <button type="submit">Sign out</button>
          </form>
        </div>
      </header>
      <main>{where.page === 'kiosk' ? <KioskPage deviceId={where.deviceId} /> : <OverviewPage />}</main>
    </>
  );
}
