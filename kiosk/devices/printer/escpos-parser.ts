// Reads an ESC/POS byte stream the way a printer does, for the simulator: text, LF, ESC @, GS V cut
// and DLE EOT status are understood; every other command is skipped by its known length so its
// parameters never print as text. Unknown commands skip only their command byte.

import { DLE, EOT, ESC, GS, LF } from './escpos.js';

const FS = 0x1c;
const CR = 0x0d;
const HT = 0x09;
const NUL = 0x00;

export type EscPosEvent =
  | { kind: 'initialize' }
  | { kind: 'line'; text: string }
  | { kind: 'feed'; lines: number }
  | { kind: 'cut' }
  | { kind: 'status-request'; n: number };

/** Fixed parameter counts of ESC x commands we skip (Epson ESC/POS command list). */
const ESC_PARAMS: Record<number, number> = Object.fromEntries(
  Object.entries({
    ' ': 1, '!': 1, '$': 2, '%': 1, '-': 1, '2': 0, '3': 1, '=': 1, '?': 1, 'E': 1, 'G': 1, 'J': 1, 'K': 1,
    'L': 0, 'M': 1, 'R': 1, 'S': 0, 'T': 1, 'U': 1, 'V': 1, 'W': 8, '\\': 2, 'a': 1, 'e': 1, 'i': 0, 'm': 0,
    'p': 3, 'r': 1, 't': 1, '{': 1,
  }).map(([c, n]) => [c.charCodeAt(0), n]),
);

/** Fixed parameter counts of GS x commands we skip. */
const GS_PARAMS: Record<number, number> = Object.fromEntries(
  Object.entries({
    '!': 1, '$': 2, 'B': 1, 'H': 1, 'I': 1, 'L': 2, 'P': 2, 'W': 2, '\\': 2, 'a': 1, 'b': 1, 'f': 1, 'h': 1,
    'r': 1, 'w': 1,
  }).map(([c, n]) => [c.charCodeAt(0), n]),
);

/** Longest header we buffer before we know a command's length (GS v 0 m xL xH yL yH). */
const MAX_PENDING_BYTES = 16;

export interface EscPosParserOptions {
  /** Characters per line; a longer run of text wraps, as on paper. */
  widthChars: number;
  /** Bound on NUL-terminated barcode data before the parser gives up on finding the NUL. */
  maxBarcodeBytes?: number;
}

export class EscPosParser {
  private pending: number[] = [];
  private skipBytes = 0;
  private skipUntilNul = 0;
  private line = '';
  /** Commands we did not recognise; the simulator exposes it so tests can see robustness at work. */
  unknownCommands = 0;

  constructor(private readonly options: EscPosParserOptions) {}

  push(bytes: Uint8Array): EscPosEvent[] {
    const events: EscPosEvent[] = [];
    for (const byte of bytes) {
      if (this.skipBytes > 0) {
        this.skipBytes -= 1;
        continue;
      }
      if (this.skipUntilNul > 0) {
        this.skipUntilNul = byte === NUL ? 0 : this.skipUntilNul - 1;
        continue;
      }
      if (this.pending.length === 0 && byte !== ESC && byte !== GS && byte !== DLE && byte !== FS) {
        this.onPlainByte(byte, events);
        continue;
      }
      this.pending.push(byte);
      this.tryCommand(events);
      if (this.pending.length > MAX_PENDING_BYTES) {
        // Cannot happen with the table above; dropping keeps the buffer bounded if it ever does.
        this.unknownCommands += 1;
        this.pending = [];
      }
    }
    return events;
  }

  private onPlainByte(byte: number, events: EscPosEvent[]): void {
    if (byte === LF) {
      events.push({ kind: 'line', text: this.line });
      this.line = '';
      return;
    }
    if (byte === HT) byte = 0x20;
    if (byte < 0x20 || byte === 0x7f) return; // CR, FF and other controls print nothing.
    if (this.line.length >= this.options.widthChars) {
      events.push({ kind: 'line', text: this.line });
      this.line = '';
    }
    this.line += String.fromCharCode(byte);
  }

  /** Consumes `pending` when it holds a whole command (or a header telling how much to skip). */
  private tryCommand(events: EscPosEvent[]): void {
    const p = this.pending;
    const prefix = p[0] ?? 0;
    if (p.length < 2) return;
    const op = p[1] ?? 0;
    const done = (skipAfter = 0) => {
      this.pending = [];
      this.skipBytes = skipAfter;
    };
    if (prefix === ESC) {
      if (op === 0x40) {
        // ESC @ clears the unprinted line; what is already on paper stays.
        this.line = '';
        events.push({ kind: 'initialize' });
        return done();
      }
      if (op === 0x64) {
        if (p.length < 3) return;
        this.flushPartialLine(events);
        events.push({ kind: 'feed', lines: p[2] ?? 0 });
        return done();
      }
      if (op === 0x2a) {
        // ESC * m nL nH d1..dk: bit image, k = columns × (1 or 3 bytes).
        if (p.length < 5) return;
        const columns = (p[3] ?? 0) + (p[4] ?? 0) * 256;
        const m = p[2] ?? 0;
        return done(columns * (m === 32 || m === 33 ? 3 : 1));
      }
      if (op === 0x44) {
        // ESC D n1..nk NUL: tab stops.
        this.skipUntilNul = 33;
        return done();
      }
      if (op === 0x63) {
        // ESC c 3 n, ESC c 4 n, ESC c 5 n: sensor and panel settings.
        return p.length < 4 ? undefined : done();
      }
      return this.skipFixed(ESC_PARAMS);
    }
    if (prefix === GS) {
      if (op === 0x56) {
        if (p.length < 3) return;
        const m = p[2] ?? 0;
        // Function B/C/D cuts carry a feed amount n.
        if ([65, 66, 97, 98, 103, 104].includes(m) && p.length < 4) return;
        this.flushPartialLine(events);
        events.push({ kind: 'cut' });
        return done();
      }
      if (op === 0x28) {
        // GS ( fn pL pH data: length-prefixed function.
        if (p.length < 5) return;
        return done((p[3] ?? 0) + (p[4] ?? 0) * 256);
      }
      if (op === 0x76) {
        // GS v 0 m xL xH yL yH data: raster image of (xL + xH*256) × (yL + yH*256) bytes.
        if (p.length < 8) return;
        return done(((p[4] ?? 0) + (p[5] ?? 0) * 256) * ((p[6] ?? 0) + (p[7] ?? 0) * 256));
      }
      if (op === 0x6b) {
        // GS k m ...: barcode, NUL-terminated for m <= 6, else n then n bytes.
        if (p.length < 3) return;
        const m = p[2] ?? 0;
        if (m <= 6) {
          this.skipUntilNul = this.options.maxBarcodeBytes ?? 255;
          return done();
        }
        if (p.length < 4) return;
        return done(p[3] ?? 0);
      }
      return this.skipFixed(GS_PARAMS);
    }
    if (prefix === DLE) {
      if (op === EOT) {
        if (p.length < 3) return;
        events.push({ kind: 'status-request', n: p[2] ?? 0 });
        return done();
      }
      if (op === 0x05) return p.length < 3 ? undefined : done(); // DLE ENQ n
      if (op === 0x14) return p.length < 5 ? undefined : done(); // DLE DC4 fn m t
      this.unknownCommands += 1;
      return done();
    }
    // FS: Kanji and NV commands; the few with parameters are skipped by count.
    if (op === 0x70) return p.length < 4 ? undefined : done(); // FS p n m
    if (op === 0x43 || op === 0x21 || op === 0x2d) return p.length < 3 ? undefined : done();
    if (op !== 0x26 && op !== 0x2e) this.unknownCommands += 1;
    return done();
  }

  private skipFixed(table: Record<number, number>): void {
    const op = this.pending[1] ?? 0;
    const params = table[op];
    if (params === undefined) {
      this.unknownCommands += 1;
      this.pending = [];
      return;
    }
    if (this.pending.length < 2 + params) return;
    this.pending = [];
  }

  private flushPartialLine(events: EscPosEvent[]): void {
    if (this.line.length === 0) return;
    events.push({ kind: 'line', text: this.line });
    this.line = '';
  }
}
