// The operator console: a read-only view of the fleet, drawn from the host's JSON API (polled), in
// Preact. Two pages by the address's hash: the fleet (#/) and one kiosk (#/kiosks/ID).
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
