// The renderer's entry: it reaches the kiosk only through `window.atm` (Electron preload or the browser
// bridge) and imports nothing from Node, Electron or kiosk/core at run time.
import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app');
const atm = window.atm;
if (!root) throw new Error('renderer: #app is missing from index.html');
if (!atm) {
  // Opened without a bridge: nothing can work, so say so rather than show a dead screen.
  root.textContent = 'window.atm is missing: open this page through the kiosk or the browser bridge.';
} else {
  render(<App atm={atm} />, root);
}
