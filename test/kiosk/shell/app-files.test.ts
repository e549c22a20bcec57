import test from 'ava';
import path from 'node:path';
import { APP_ENTRY_URL, CONTENT_SECURITY_POLICY, isBlockedShortcut, resolveAppFile } from '../../../kiosk/bridge/app-files.js';

const root = '/opt/app/renderer';

test('app URLs map to files inside the renderer folder', (t) => {
  t.is(resolveAppFile(root, APP_ENTRY_URL), path.join(root, 'index.html'));
  t.is(resolveAppFile(root, 'atm://app/'), path.join(root, 'index.html'));
  t.is(resolveAppFile(root, 'atm://app/assets/main-abc123.js'), path.join(root, 'assets/main-abc123.js'));
  t.is(resolveAppFile(root, 'atm://app/assets/main.css?v=1#x'), path.join(root, 'assets/main.css'));
});

test('no URL resolves outside the renderer folder', (t) => {
  for (const url of [
    'atm://app/../../etc/passwd.js',
    'atm://app/%2e%2e/%2e%2e/etc/passwd.js',
    'atm://app/assets/..%2f..%2f..%2fetc%2fshadow.js',
    'atm://app/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fshadow.js',
  ]) {
    const file = resolveAppFile(root, url);
    t.true(file === undefined || file.startsWith(root + path.sep), `${url} -> ${file}`);
  }
});

test('other hosts and schemes, odd characters and unserved kinds of file resolve to nothing', (t) => {
  for (const url of [
    'atm://app/assets%5c..%5c..%5csecret.js',
    'atm://app/index.html%00.js',
    'atm://other/index.html',
    'atm://user:pw@app/index.html',
    'file:///opt/app/renderer/index.html',
    'https://app/index.html',
    'atm://app/kiosk.json',
    'atm://app/k_shared.key',
    'atm://app/%E0%A4%A',
    'not a url',
  ]) {
    t.is(resolveAppFile(root, url), undefined, url);
  }
});

test('the content security policy allows only the app itself', (t) => {
  t.regex(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  t.regex(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  t.regex(CONTENT_SECURITY_POLICY, /connect-src 'none'/);
  t.false(CONTENT_SECURITY_POLICY.includes('unsafe-inline'));
  t.false(CONTENT_SECURITY_POLICY.includes('unsafe-eval'));
});

test('reload, devtools, close and zoom shortcuts are blocked; typing is not', (t) => {
  const key = (k: string, mods: Partial<{ control: boolean; meta: boolean; shift: boolean; alt: boolean }> = {}) => ({ key: k, control: false, meta: false, shift: false, alt: false, ...mods });
  for (const blocked of [key('F5'), key('F12'), key('r', { control: true }), key('I', { control: true, shift: true }), key('w', { control: true }), key('F4', { alt: true }), key('=', { control: true })]) {
    t.true(isBlockedShortcut(blocked), JSON.stringify(blocked));
  }
  for (const allowed of [key('r'), key('5'), key('Enter'), key('Backspace'), key('A', { shift: true })]) t.false(isBlockedShortcut(allowed), JSON.stringify(allowed));
});
