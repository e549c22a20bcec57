// How the kiosk window loads its UI: from the `atm://app/` scheme, never file://, mapped onto the built
// renderer folder inside the app's ASAR. No Electron here, so the mapping is tested in plain Node.
import path from 'node:path';

export const APP_SCHEME = 'atm';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The renderer loads only its own scripts and styles; it talks to nothing but the preload API. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "media-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Only these kinds of file are served; anything else in the folder stays private. */
export function contentTypeFor(file: string): string | undefined {
  return CONTENT_TYPES[path.extname(file).toLowerCase()];
}

/** The file under `rootDir` that `requestUrl` names, or undefined when the URL is not one of ours or tries
 *  to leave the folder (`..`, encoded separators, another host). */
export function resolveAppFile(rootDir: string, requestUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST || url.username || url.password) return undefined;
  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  if (relative.includes('\0') || relative.includes('\\')) return undefined;
  if (relative === '/' || relative === '') relative = '/index.html';
  const root = path.resolve(rootDir);
  const file = path.resolve(root, '.' + path.posix.normalize(relative));
  if (file !== root && !file.startsWith(root + path.sep)) return undefined;
  return contentTypeFor(file) ? file : undefined;
}

/** Keys that reload the page or open developer tools; blocked in production so a customer cannot. */
export function isBlockedShortcut(input: { key: string; control: boolean; meta: boolean; shift: boolean; alt: boolean }): boolean {
  const key = input.key.toLowerCase();
  const modifier = input.control || input.meta;
  if (key === 'f5' || key === 'f11' || key === 'f12') return true;
  if (modifier && (key === 'r' || key === 'w' || key === 'q' || key === 'n' || key === 'p' || key === '+' || key === '-' || key === '=' || key === '0')) return true;
  if (modifier && input.shift && (key === 'i' || key === 'j' || key === 'c')) return true;
  if (input.alt && (key === 'f4' || key === 'arrowleft' || key === 'arrowright')) return true;
  return false;
}
