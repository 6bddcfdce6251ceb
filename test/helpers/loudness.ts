import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dir = path.join(os.tmpdir(), 'reprise-test-loudness-v1');

async function make(name: string, source: string, rate: number): Promise<string> {
  const out = path.join(dir, name);
  if (existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp.wav`;
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-ar', String(rate), '-ac', '2', '-c:a', 'pcm_s16le', tmp]);
  await rename(tmp, out);
  return out;
}

/** Real audio with different loudness problems, 20 s each, cached between runs. */
export const loudnessFixtures = {
  /** Band-limited pink noise opening and closing at syllable rate, around −40 LUFS. */
  quietSpeech: () =>
    make('quiet-speech.wav', "anoisesrc=color=pink:amplitude=0.15:duration=20:seed=3,lowpass=3400,highpass=150,volume='0.15+0.85*pow(sin(2*PI*2.3*t)*sin(2*PI*0.31*t),2)':eval=frame", 44100),
  /** Loud noise with full-scale clicks: any gain up makes the peaks clip, so the limiter must act. */
  loudPeaky: () =>
    make('loud-peaky.wav', "aevalsrc='0.1*(random(0)*2-1)+if(lt(mod(t\\,1.3)\\,0.0005)\\,0.97\\,0)|0.1*(random(1)*2-1)+if(lt(mod(t\\,1.3)\\,0.0005)\\,-0.97\\,0)':s=44100:d=20", 44100),
  /** A steady 997 Hz tone at 48 kHz: its loudness range is 0 (the measured_LRA=0 case). */
  steadyTone48k: () => make('tone-48k.wav', 'sine=frequency=997:duration=20:sample_rate=48000,volume=0.1', 48000),
};

export interface Metered {
  integratedLufs: number;
  truePeakDbtp: number;
}

const hasLoudgain = (() => {
  let known: boolean | undefined;
  return async () => (known ??= await run('loudgain', ['--version']).then(() => true, () => false));
})();

/**
 * Measures a finished output independently of the service: libebur128 through Debian's loudgain
 * when installed (scripts/install-system-deps.sh --test installs it), else ffmpeg's ebur128 with
 * true peak on the decoded file.
 */
export async function meterFile(file: string): Promise<Metered & { meter: string }> {
  if (await hasLoudgain()) {
    const { stdout } = await run('loudgain', ['-O', '-q', file]);
    const row = stdout.trim().split('\n').at(-1)?.split('\t') ?? [];
    return { integratedLufs: parseFloat(row[1] ?? 'NaN'), truePeakDbtp: parseFloat(row[4] ?? 'NaN'), meter: 'loudgain' };
  }
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', 'ebur128=peak=true:framelog=verbose', '-f', 'null', '-']);
  const tail = stderr.slice(stderr.lastIndexOf('Summary:'));
  return {
    integratedLufs: parseFloat(/I:\s+(\S+) LUFS/.exec(tail)?.[1] ?? 'NaN'),
    truePeakDbtp: parseFloat(/Peak:\s+(\S+) dBFS/.exec(tail)?.[1] ?? 'NaN'),
    meter: 'ffmpeg ebur128',
  };
}

export const loudnessPresets = {
  podcast: { integratedLufs: -16, truePeakDbtp: -1 },
  streaming: { integratedLufs: -14, truePeakDbtp: -1 },
  broadcast: { integratedLufs: -23, truePeakDbtp: -1 },
} as const;

/** Asserts what the requirement says of every normalized output: ±0.5 LU, at or under the peak. */
export function checkOutput(m: Metered, target: Metered, what: string): string | undefined {
  if (!(Math.abs(m.integratedLufs - target.integratedLufs) <= 0.5)) return `${what}: ${m.integratedLufs} LUFS, target ${target.integratedLufs}`;
  if (!(m.truePeakDbtp <= target.truePeakDbtp)) return `${what}: true peak ${m.truePeakDbtp} dBTP over ${target.truePeakDbtp}`;
  return undefined;
}
