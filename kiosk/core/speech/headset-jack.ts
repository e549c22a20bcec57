// Whether a headset is plugged into the kiosk's private audio jack (ADA 2010 §707.5: speech through a
// headset jack). Plugging in starts speech mode; unplugging ends it.
//
// On Linux the jack is read from the sound card's ALSA jack control (`iface=CARD,name='Headphone Jack'`),
// the control every codec driver with jack detection creates (HD-audio, ASoC codecs on Raspberry Pi HATs,
// USB audio connectors), with `amixer cget`. Chosen over the evdev switch (SW_HEADPHONE_INSERT) because
// the ALSA control exists for every driver that detects a jack (USB audio has no input device), because
// reading it needs only the `audio` group the kiosk already needs to speak (reading /dev/input would open
// every keyboard-like device to the kiosk user), and because its text is stable and documented. The
// control is read every JACK_POLL_INTERVAL_MS: a plug is heard within half a second, and a short-lived
// `amixer` leaves no monitor process to supervise.
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { KioskError } from '../../common/errors.js';

/** How often the jack control is read. */
export const JACK_POLL_INTERVAL_MS = 500;
/** One read of the control; amixer answers in milliseconds. */
export const JACK_READ_TIMEOUT_MS = 2_000;
/** amixer's answer for one control is a few hundred bytes. */
const AMIXER_OUTPUT_BYTES_MAX = 16 * 1024;

export interface HeadsetJack {
  /** A headset is in the jack (false until the first reading). */
  readonly plugged: boolean;
  /** Called with the new state on every change. Returns the function that stops listening. */
  onChange(listener: (plugged: boolean) => void): () => void;
  start(): void;
  stop(): void;
}

/** The demo's and the tests' jack: plugged and unplugged by a command (the demo console's `headset`). */
export class SimulatedHeadsetJack implements HeadsetJack {
  private readonly events = new EventEmitter<{ change: [boolean] }>();
  private state = false;

  get plugged(): boolean {
    return this.state;
  }

  onChange(listener: (plugged: boolean) => void): () => void {
    this.events.on('change', listener);
    return () => void this.events.off('change', listener);
  }

  start(): void {}
  stop(): void {}

  plug(): void {
    this.set(true);
  }

  unplug(): void {
    this.set(false);
  }

  private set(plugged: boolean): void {
    if (this.state === plugged) return;
    this.state = plugged;
    this.events.emit('change', plugged);
  }
}

export class JackReadError extends KioskError<'JACK_UNREADABLE'> {
  constructor(message: string) {
    super('JACK_UNREADABLE', message);
    this.name = 'JackReadError';
  }
}

/** An ALSA card as `amixer -c` takes it: its index or its id (`/proc/asound/cards`). */
export const ALSA_CARD_PATTERN = /^[A-Za-z0-9_]{1,32}$/;
/** A jack control's name, as the kernel names them ("Headphone Jack", "Headset Jack", "Front Headphone
 *  Jack"); quotes and commas would break amixer's control identifier. */
export const JACK_CONTROL_PATTERN = /^[A-Za-z0-9 _-]{1,40} Jack$/;

/** The state in `amixer -c CARD cget iface=CARD,name='Headphone Jack'`:
 *    numid=12,iface=CARD,name='Headphone Jack'
 *      ; type=BOOLEAN,access=r-------,values=1
 *      : values=off
 *  Anything else (another control, not a boolean, no value line) is an error naming what is wrong. */
export function parseAmixerJack(output: string, control = 'Headphone Jack'): boolean {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const header = lines[0] ?? '';
  if (!/^numid=\d+,iface=CARD,name='/.test(header) || !header.endsWith(`name='${control}'`)) {
    throw new JackReadError(`amixer: expected the CARD control '${control}', got "${header.slice(0, 80)}"`);
  }
  if (!lines.some((line) => /^; type=BOOLEAN,/.test(line))) throw new JackReadError(`amixer: '${control}' is not a BOOLEAN control`);
  const values = lines.filter((line) => line.startsWith(': values='));
  if (values.length !== 1) throw new JackReadError(`amixer: '${control}' has ${values.length} value lines, expected 1`);
  const value = values[0]!.slice(': values='.length);
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new JackReadError(`amixer: '${control}' has the value "${value.slice(0, 20)}", expected on or off`);
}

export interface AlsaJackOptions {
  readonly card: string;
  readonly control?: string;
  readonly amixer?: string;
  readonly pollIntervalMs?: number;
  /** A failed read (no card, no control, amixer missing): said once until a read works again. */
  readonly onError?: (error: Error) => void;
}

/** The jack control of an ALSA card, read with amixer. A failed read counts as unplugged: speech goes
 *  to a headset only when the card says one is there. */
export class AlsaHeadsetJack implements HeadsetJack {
  private readonly events = new EventEmitter<{ change: [boolean] }>();
  private readonly control: string;
  private state = false;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private failing = false;

  constructor(private readonly options: AlsaJackOptions) {
    this.control = options.control ?? 'Headphone Jack';
    if (!ALSA_CARD_PATTERN.test(options.card)) throw new RangeError(`an ALSA card is an index or id matching ${ALSA_CARD_PATTERN}`);
    if (!JACK_CONTROL_PATTERN.test(this.control)) throw new RangeError(`a jack control's name matches ${JACK_CONTROL_PATTERN}`);
  }

  get plugged(): boolean {
    return this.state;
  }

  onChange(listener: (plugged: boolean) => void): () => void {
    this.events.on('change', listener);
    return () => void this.events.off('change', listener);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.options.pollIntervalMs ?? JACK_POLL_INTERVAL_MS);
    void this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One reading of the control (exported for the tests through `poll`). */
  read(): Promise<boolean> {
    const args = ['-c', this.options.card, 'cget', `iface=CARD,name='${this.control}'`];
    return new Promise((resolve, reject) => {
      execFile(this.options.amixer ?? 'amixer', args, { timeout: JACK_READ_TIMEOUT_MS, maxBuffer: AMIXER_OUTPUT_BYTES_MAX, env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) => {
        if (error) {
          const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'amixer is not installed (apt-get install -y alsa-utils)' : String(stderr).trim().split('\n')[0] || error.message;
          reject(new JackReadError(`amixer -c ${this.options.card}: ${why}`));
          return;
        }
        try {
          resolve(parseAmixerJack(String(stdout), this.control));
        } catch (parseError) {
          reject(parseError as Error);
        }
      });
    });
  }

  async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    let plugged = false;
    try {
      plugged = await this.read();
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.options.onError?.(error as Error);
      this.failing = true;
    } finally {
      this.reading = false;
    }
    if (plugged !== this.state) {
      this.state = plugged;
      this.events.emit('change', plugged);
    }
  }
}
