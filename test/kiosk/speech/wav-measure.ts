// What sox says of a WAV file (`sox f.wav -n stat`): its length and RMS amplitude. espeak-ng and sox are
// Debian packages (test/debian-packages.txt); a missing one fails the test with the line that installs it.
import { execFile, spawnSync } from 'node:child_process';

export function requireSpeechTools(): void {
  for (const [binary, pkg] of [['espeak-ng', 'espeak-ng'], ['sox', 'sox']] as const) {
    if (spawnSync(binary, ['--version']).error) throw new Error(`${binary} is missing: run apt-get install -y --no-install-recommends ${pkg}`);
  }
}

export interface WavMeasure {
  readonly seconds: number;
  readonly rms: number;
}

export function parseSoxStat(text: string): WavMeasure {
  const field = (name: RegExp) => {
    const match = text.match(name);
    if (!match) throw new Error(`sox stat gave no ${name.source}: ${text.slice(0, 300)}`);
    return Number(match[1]);
  };
  return { seconds: field(/Length \(seconds\):\s+([0-9.]+)/), rms: field(/RMS\s+amplitude:\s+([0-9.]+)/) };
}

export function measureWav(file: string): Promise<WavMeasure> {
  return new Promise((resolve, reject) => {
    // sox prints its statistics on stderr.
    execFile('sox', [file, '-n', 'stat'], { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`sox ${file}: ${String(stderr).trim() || error.message}`));
      else {
        try {
          resolve(parseSoxStat(String(stderr)));
        } catch (parseError) {
          reject(parseError as Error);
        }
      }
    });
  });
}
