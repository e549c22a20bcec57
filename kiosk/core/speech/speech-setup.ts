// Speech mode as a kiosk's configuration describes it: the jack (the sound card's, or simulated), the
// espeak-ng voice, and the guide beside the controller. Called by whoever runs the controller (the
// Electron main process, the browser kiosk, the demo): made with the controller, started after it
// (`guide.start()` needs its devices), stopped before it.
import type { Logger } from '../../../protocol/log.js';
import type { KioskConfig } from '../config.js';
import { EspeakVoice, type SpeechVoice } from './espeak-voice.js';
import { AlsaHeadsetJack, SimulatedHeadsetJack, type HeadsetJack } from './headset-jack.js';
import { SpeechGuide, type SpeechController } from './speech-guide.js';

export interface SpeechSetup {
  readonly guide: SpeechGuide;
  readonly jack: HeadsetJack;
  /** The simulated jack (demo console's `headset`), when the configuration asks for one. */
  readonly simulatedJack?: SimulatedHeadsetJack;
}

/** Speech mode for `controller`; undefined when the configuration has none. */
export function createSpeech(config: KioskConfig, controller: SpeechController, log: Logger, voice?: SpeechVoice): SpeechSetup | undefined {
  const speech = config.speech;
  if (!speech) return undefined;
  const speechLog = log.child({ component: 'speech' });
  const simulatedJack = speech.jack.kind === 'simulated' ? new SimulatedHeadsetJack() : undefined;
  const jack: HeadsetJack =
    speech.jack.kind === 'alsa'
      ? new AlsaHeadsetJack({ card: speech.jack.card, control: speech.jack.control, onError: (error) => speechLog.warn('headset jack unreadable; taken as unplugged', { error: error.message }) })
      : simulatedJack!;
  const guide = new SpeechGuide({ controller, jack, voice: voice ?? new EspeakVoice({ wordsPerMinute: speech.wordsPerMinute, ...(speech.device ? { device: speech.device } : {}) }), log: speechLog });
  return { guide, jack, ...(simulatedJack ? { simulatedJack } : {}) };
}
