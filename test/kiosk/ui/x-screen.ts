// A real X screen for tests of the kiosk window itself (not only of the page): Xvfb at a known size, a
// window manager on it as on any desktop, a capture of the whole screen (xwd) read into RGB pixels, and
// the top-level windows with their geometry (xwininfo). Each tool's absence fails with the apt-get line
// that installs it (test/debian-packages.txt lists them for `npm test`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import zlib from 'node:zlib';

/** The programs used here and the Debian package of each. */
export const X_TOOLS = { Xvfb: 'xvfb', openbox: 'openbox', xwd: 'x11-apps', xwininfo: 'x11-utils', xprop: 'x11-utils' } as const;

/** Throws, naming the command that installs them, when any of `tools` is missing. */
export function requireTools(tools: readonly (keyof typeof X_TOOLS)[]): void {
  const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => X_TOOLS[tool]))];
  throw new Error(`missing ${missing.join(', ')}: run apt-get install -y ${packages.join(' ')}`);
}

export interface XServer {
  /** `:N`, for DISPLAY. */
  readonly display: string;
  readonly width: number;
  readonly height: number;
  close(): Promise<void>;
}

/** How long Xvfb and the window manager may take to come up on a loaded machine. */
const X_START_TIMEOUT_MS = 20_000;

/** Xvfb at `width`×`height`, 24-bit, on a free display number it picks itself (-displayfd). */
export async function startXvfb(width: number, height: number): Promise<XServer> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2_000)));
  const number = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start within ${X_START_TIMEOUT_MS} ms: ${stderr}`)), X_START_TIMEOUT_MS);
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve(out.trim());
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}): ${stderr}`));
    });
  });
  return { display: `:${number}`, width, height, close: () => stopChild(child) };
}

/** Openbox, a common small window manager: what makes a window fullscreen on an X desktop. Resolves once
 *  it has announced itself on the root window (_NET_SUPPORTING_WM_CHECK). */
export async function startWindowManager(display: string): Promise<{ close(): Promise<void> }> {
  const child = spawn('openbox', ['--sm-disable'], { stdio: 'ignore', env: { ...process.env, DISPLAY: display } });
  const deadlineMs = Date.now() + X_START_TIMEOUT_MS;
  for (;;) {
    const r = spawnSync('xprop', ['-root', '_NET_SUPPORTING_WM_CHECK'], { encoding: 'utf8', env: { ...process.env, DISPLAY: display } });
    if (/window id # 0x[0-9a-f]+/i.test(r.stdout)) break;
    if (child.exitCode !== null || Date.now() > deadlineMs) {
      await stopChild(child);
      throw new Error(`openbox did not start within ${X_START_TIMEOUT_MS} ms (exit ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { close: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  await closed;
}

export interface Capture {
  readonly width: number;
  readonly height: number;
  /** Three bytes a pixel, rows from the top. */
  readonly rgb: Buffer;
}

/** Captures xwd may take when windows come and go under it (see captureScreen). */
const CAPTURE_ATTEMPTS = 5;

/** What is on the whole X screen now, as the person in front of it sees it. xwd -root asks for the
 *  attributes of every window on the screen; one destroyed meanwhile (a browser replacing its window as it
 *  starts) fails the capture with BadWindow, so that failure is taken again, a few times. */
export function captureScreen(display: string): Capture {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync('xwd', ['-root', '-silent'], { env: { ...process.env, DISPLAY: display }, maxBuffer: 64 * 1024 * 1024 });
    if (r.status === 0) return parseXwd(r.stdout);
    const why = r.stderr.toString('utf8');
    if (!/BadWindow/.test(why) || attempt >= CAPTURE_ATTEMPTS) throw new Error(`xwd failed (${r.status}${attempt > 1 ? `, attempt ${attempt}` : ''}): ${why}`);
  }
}

/** Reads an X Window Dump (XWD version 7, ZPixmap, 32 bits a pixel: what xwd writes for a 24-bit
 *  screen). The header and colour map are big-endian; pixels are in the byte order the header names. */
export function parseXwd(bytes: Buffer): Capture {
  const field = (index: number) => bytes.readUInt32BE(index * 4);
  const [headerBytes, version, format, , width, height, , byteOrder] = [0, 1, 2, 3, 4, 5, 6, 7].map(field) as number[];
  const bitsPerPixel = field(11);
  const bytesPerLine = field(12);
  const masks = [field(14), field(15), field(16)];
  const colours = field(19);
  if (version !== 7 || format !== 2 || bitsPerPixel !== 32) throw new Error(`unsupported XWD image: version ${version}, format ${format}, ${bitsPerPixel} bits a pixel`);
  const shifts = masks.map((mask) => Math.log2(mask & -mask));
  const start = headerBytes! + colours * 12;
  if (bytes.length < start + bytesPerLine * height!) throw new Error('XWD image is truncated');
  const rgb = Buffer.alloc(width! * height! * 3);
  for (let y = 0; y < height!; y++) {
    for (let x = 0; x < width!; x++) {
      const offset = start + y * bytesPerLine + x * 4;
      const pixel = byteOrder === 0 ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset);
      for (let c = 0; c < 3; c++) rgb[(y * width! + x) * 3 + c] = (pixel & masks[c]!) >>> shifts[c]!;
    }
  }
  return { width: width!, height: height!, rgb };
}

/** `#rrggbb` of one pixel. */
export function pixelAt(capture: Capture, x: number, y: number): string {
  const i = (y * capture.width + x) * 3;
  return '#' + [0, 1, 2].map((c) => capture.rgb[i + c]!.toString(16).padStart(2, '0')).join('');
}

/** A capture as a PNG file's bytes (8-bit RGB, no filter), for a person to look at. */
export function encodePng(capture: Capture): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(typed));
    return Buffer.concat([head, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(capture.width, 0);
  header.writeUInt32BE(capture.height, 4);
  header[8] = 8; // bits a channel
  header[9] = 2; // RGB
  const rowBytes = capture.width * 3;
  const raw = Buffer.alloc((rowBytes + 1) * capture.height);
  for (let y = 0; y < capture.height; y++) capture.rgb.copy(raw, y * (rowBytes + 1) + 1, y * rowBytes, (y + 1) * rowBytes);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export interface XWindow {
  readonly id: string;
  readonly name: string;
  /** WM_CLASS's class part, e.g. "Chromium". */
  readonly windowClass: string;
  readonly viewable: boolean;
  /** Position on the screen (absolute) and size. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Every window with a WM_CLASS (the programs' own windows, not the window manager's frames). */
export function clientWindows(display: string): XWindow[] {
  const env = { ...process.env, DISPLAY: display };
  const tree = spawnSync('xwininfo', ['-root', '-tree'], { encoding: 'utf8', env });
  if (tree.status !== 0) throw new Error(`xwininfo failed: ${tree.stderr}`);
  const windows: XWindow[] = [];
  for (const line of tree.stdout.split('\n')) {
    const match = /^\s*(0x[0-9a-f]+) (?:"(.*)"|\(has no name\)): \("[^"]*" "([^"]*)"\)/.exec(line);
    if (!match) continue;
    const info = spawnSync('xwininfo', ['-id', match[1]!], { encoding: 'utf8', env });
    const number = (label: string) => Number(new RegExp(`${label}:\\s+(-?\\d+)`).exec(info.stdout)?.[1]);
    windows.push({
      id: match[1]!,
      name: match[2] ?? '',
      windowClass: match[3]!,
      viewable: /Map State: IsViewable/.test(info.stdout),
      x: number('Absolute upper-left X'),
      y: number('Absolute upper-left Y'),
      width: number('Width'),
      height: number('Height'),
    });
  }
  return windows;
}
