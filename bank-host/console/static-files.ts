// The console's built UI (Vite's output: index.html, login.html, assets/, favicon.svg), read into memory
// once when the console starts: a few tens of kilobytes, never a path from a request on the disk. Which
// files the sign-in page needs is read from login.html itself: only those are served without a session.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` puts the UI (dist/console/), found from this file in the sources and in dist/. */
export function defaultConsoleUiDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const compiled = here.split(path.sep).slice(-3).join('/') === 'dist/bank-host/console';
  return compiled ? path.resolve(here, '../../console') : path.resolve(here, '../../dist/console');
}

/** The files of a build, bounded: a UI is small; anything this large is not one. */
const UI_FILES_MAX = 200;
const UI_BYTES_MAX = 8 * 1024 * 1024;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  /** Hashed by Vite: the name changes with the content, so browsers may keep it. */
  readonly immutable: boolean;
}

export interface ConsoleUi {
  /** By URL path (`/assets/index-3f2a.js`); index.html and login.html are not in here. */
  readonly files: ReadonlyMap<string, StaticFile>;
  /** Paths the sign-in page loads, served to anyone. */
  readonly publicPaths: ReadonlySet<string>;
  readonly indexHtml: string;
  readonly loginHtml: string;
}

/** Reads a UI build; undefined when there is none (the console then serves its API and a page saying so). */
export async function loadConsoleUi(dir: string): Promise<ConsoleUi | undefined> {
  let indexHtml: string;
  let loginHtml: string;
  try {
    [indexHtml, loginHtml] = await Promise.all([readFile(path.join(dir, 'index.html'), 'utf8'), readFile(path.join(dir, 'login.html'), 'utf8')]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const files = new Map<string, StaticFile>();
  let bytes = 0;
  const add = async (relative: string) => {
    const type = CONTENT_TYPES[path.extname(relative)];
    if (type === undefined) return;
    if (files.size >= UI_FILES_MAX) throw new Error(`${dir}: more than ${UI_FILES_MAX} files; is this the console's build?`);
    const body = await readFile(path.join(dir, relative));
    bytes += body.length;
    if (bytes > UI_BYTES_MAX) throw new Error(`${dir}: more than ${UI_BYTES_MAX} bytes; is this the console's build?`);
    files.set(`/${relative.split(path.sep).join('/')}`, { body, contentType: type, immutable: relative.startsWith(`assets${path.sep}`) });
  };
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile() && !entry.name.endsWith('.html')) await add(entry.name);
  }
  const assets = await readdir(path.join(dir, 'assets'), { withFileTypes: true }).catch(() => []);
  for (const entry of assets) if (entry.isFile()) await add(path.join('assets', entry.name));
  const publicPaths = new Set([...loginHtml.matchAll(/(?:href|src)="(\/[^"]+)"/g)].map((m) => m[1]!).filter((p) => files.has(p)));
  return { files, publicPaths, indexHtml, loginHtml };
}
