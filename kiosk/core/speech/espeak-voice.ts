// Speech from espeak-ng, one process per utterance, in the main process only (the renderer never makes a
// sound). Stopping an utterance stops its process: the sound stops with it, and a screen that changes
// mid-sentence is never talked over by the last one. The text goes in on stdin (never as an argument, so
// nothing in it is read as an option, and no process list shows what a customer heard).
import { spawn, type ChildProcess } from 'node:child_process';
import { KioskError } from '../../common/errors.js';
import type { Language } from '../ui-contract.js';

/** espeak-ng's voice for each language the kiosk speaks. */
export const ESPEAK_VOICES: Readonly<Record<Language, string>> = { en: 'en-us', fr: 'fr-fr' };
/** A little slower than espeak-ng's 175: figures are heard once, at arm's length from a noisy street. */
export const SPEECH_WORDS_PER_MINUTE = 160;
/** The longest text one utterance takes (a history page read aloud is about 1,500 characters). */
export const SPOKEN_TEXT_CHARS_MAX = 6_000;
/** What a failing espeak-ng says on stderr is kept this long (ALSA's complaints come first, then its own). */
const STDERR_CHARS_MAX = 8_000;
/** An ALSA PCM name as espeak-ng's `-d` takes it (`default`, `plughw:CARD=Headphones,DEV=0`). */
export const ALSA_DEVICE_PATTERN = /^[A-Za-z0-9_:,=.-]{1,64}$/;

export const ESPEAK_INSTALL = 'apt-get install -y --no-install-recommends espeak-ng';

/** The customer's volume steps (ADA 2010 §707.5.1: a volume control for the speech), each one espeak-ng's
 *  amplitude (`-a`, 0-200, its default 100): about 3 dB apart, from quiet to the loudest espeak-ng makes
 *  without clipping its voices. A visit starts at the middle step. */
export const SPEECH_VOLUME_AMPLITUDES = [50, 71, 100, 141, 200] as const;
export const SPEECH_VOLUME_STEPS = SPEECH_VOLUME_AMPLITUDES.length;
export const SPEECH_VOLUME_DEFAULT = 3;

/** espeak-ng's amplitude for a volume step (1 to SPEECH_VOLUME_STEPS). */
export function speechAmplitude(step: number): number {
  if (!Number.isInteger(step) || step < 1 || step > SPEECH_VOLUME_STEPS) throw new RangeError(`a volume step is 1 to ${SPEECH_VOLUME_STEPS}, got ${step}`);
  return SPEECH_VOLUME_AMPLITUDES[step - 1]!;
}

export class SpeechError extends KioskError<'SPEECH_UNAVAILABLE'> {
  constructor(message: string) {
    super('SPEECH_UNAVAILABLE', message);
    this.name = 'SpeechError';
  }
}

export type UtteranceEnd = { readonly kind: 'finished' } | { readonly kind: 'stopped' } | { readonly kind: 'failed'; readonly error: SpeechError };

export interface Utterance {
  readonly text: string;
  readonly language: Language;
  /** The WAV file this utterance is written to, when the voice writes files. */
  readonly wavFile?: string;
  /** Resolves once the process has exited, however it ended; never rejects. */
  readonly ended: Promise<UtteranceEnd>;
  /** Stops the sound now (the process is killed); `ended` says 'stopped'. */
  stop(): void;
}

/** What speaks: espeak-ng on the kiosk, the same with WAV files in the tests. */
export interface SpeechVoice {
  /** `volume`: the customer's step, 1 to SPEECH_VOLUME_STEPS (default SPEECH_VOLUME_DEFAULT). */
  speak(text: string, language: Language, volume?: number): Utterance;
}

export interface EspeakVoiceOptions {
  /** The espeak-ng binary (default: `espeak-ng` on the PATH). */
  readonly binary?: string;
  readonly wordsPerMinute?: number;
  /** The sound device to speak on (the headset jack's card); default: the system's default device. */
  readonly device?: string;
  /** Writes each utterance to the WAV file this names (espeak-ng `-w`) instead of the sound card. */
  readonly wavFileFor?: (sequence: number, language: Language) => string;
  /** Called with each utterance as it starts (the tests measure them). */
  readonly onUtterance?: (utterance: Utterance) => void;
}

/** Control characters (but for line breaks) are dropped: they mean nothing to a listener. */
function speakableText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, ' ');
  return clean.length > SPOKEN_TEXT_CHARS_MAX ? clean.slice(0, SPOKEN_TEXT_CHARS_MAX) : clean;
}

export class EspeakVoice implements SpeechVoice {
  private sequence = 0;

  constructor(private readonly options: EspeakVoiceOptions = {}) {
    const wpm = options.wordsPerMinute ?? SPEECH_WORDS_PER_MINUTE;
    if (!(Number.isInteger(wpm) && wpm >= 80 && wpm <= 450)) throw new RangeError('espeak-ng speaks 80 to 450 words per minute');
    if (options.device !== undefined && !ALSA_DEVICE_PATTERN.test(options.device)) throw new RangeError(`a sound device is an ALSA PCM name matching ${ALSA_DEVICE_PATTERN}`);
  }

  speak(text: string, language: Language, volume: number = SPEECH_VOLUME_DEFAULT): Utterance {
    const voice = ESPEAK_VOICES[language];
    if (!voice) throw new RangeError(`no voice for language ${String(language)}`);
    const amplitude = speechAmplitude(volume);
    const sequence = ++this.sequence;
    const wavFile = this.options.wavFileFor?.(sequence, language);
    const args = ['-v', voice, '-s', String(this.options.wordsPerMinute ?? SPEECH_WORDS_PER_MINUTE), '-a', String(amplitude), '-b', '1', ...(wavFile ? ['-w', wavFile] : this.options.device ? ['-d', this.options.device] : []), '--stdin'];
    const binary = this.options.binary ?? 'espeak-ng';
    let child: ChildProcess | undefined;
    let stopped = false;
    const ended = new Promise<UtteranceEnd>((resolve) => {
      let stderr = '';
      try {
        child = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      } catch (error) {
        resolve({ kind: 'failed', error: new SpeechError(`${binary}: ${(error as Error).message}`) });
        return;
      }
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < STDERR_CHARS_MAX) stderr += chunk.slice(0, STDERR_CHARS_MAX - stderr.length);
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'ENOENT' ? `${binary} is not installed; run: ${ESPEAK_INSTALL}` : `${binary}: ${error.message}`;
        resolve({ kind: 'failed', error: new SpeechError(why) });
      });
      // 'close', not 'exit': stderr is read to its end only then.
      child.once('close', (code, signal) => {
        // espeak-ng exits 0 when it could not open the sound device, saying "error: …" on stderr.
        const soundError = stderr.split('\n').find((line) => line.startsWith('error:'));
        if (stopped) resolve({ kind: 'stopped' });
        else if (code === 0 && soundError) resolve({ kind: 'failed', error: new SpeechError(`${binary} could not play on ${this.options.device ?? 'the default sound device'}: ${stderr.split('\n').filter((l) => l.trim() !== '').slice(-2).join(' ').slice(0, 300)}`) });
        else if (code === 0) resolve({ kind: 'finished' });
        else resolve({ kind: 'failed', error: new SpeechError(`${binary} exited with ${signal ?? `code ${code}`}: ${stderr.trim().slice(-300)}`) });
      });
      // A process killed while its text is still going in closes the pipe under us: nothing to report.
      child.stdin?.on('error', () => {});
      child.stdin?.end(speakableText(text), 'utf8');
    });
    const utterance: Utterance = {
      text,
      language,
      ...(wavFile ? { wavFile } : {}),
      ended,
      stop: () => {
        if (!child || child.exitCode !== null || child.signalCode !== null || stopped) return;
        stopped = true;
        child.kill('SIGTERM');
      },
    };
    this.options.onUtterance?.(utterance);
    return utterance;
  }
}
