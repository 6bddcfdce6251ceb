import { WAVEFORM_BARS } from './waveform.ts';
import { probeArgs, transcodeArgs } from './ffmpeg-args.ts';
import { peaksFromFile } from './peaks-file.ts';
import { runTracked } from './ffmpeg-run.ts';
import { gainFilters, parseMeterSummary } from './loudness.ts';
import { analyzeLoudness } from './loudness-run.ts';
import { spawnTied } from './spawn.ts';
import { interpretProbe, sniffPlaylist } from './probe.ts';
import { MediaError, type Media, type TranscodeRequest } from './types.ts';

export interface FfmpegOptions {
  ffmpegPath: string;
  ffprobePath: string;
  /** A transcode that reports no progress for this long is killed and failed. */
  stallTimeoutMs: number;
}

/** ffprobe's JSON for a sane audio file is a few KB; a crafted one with thousands of streams is not. */
const MAX_PROBE_OUTPUT = 4 * 1024 * 1024;

/**
 * Runs a program to completion, collecting stdout and the tail of stderr. A hostile input can make
 * a demuxer spin or print without end, so the run is killed after `timeoutMs` or `maxStdout`
 * characters, and says which.
 */
function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; killed?: 'timeout' | 'output' }> {
  return new Promise((resolve, reject) => {
    const child = spawnTied(cmd, args);
    let stdout = '';
    let stderr = '';
    let killed: 'timeout' | 'output' | undefined;
    const stop = (why: 'timeout' | 'output') => {
      killed ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.length > MAX_PROBE_OUTPUT) stop('output');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8192)));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

export { summarizeStderr } from './ffmpeg-run.ts';

export function createFfmpegMedia(opts: FfmpegOptions): Media {
  return {
    async probe(path) {
      if (await sniffPlaylist(path)) {
        throw new MediaError('playlist', 'Playlists and concat lists are not accepted: upload the audio file itself.');
      }
      const { stdout, code, killed } = await run(opts.ffprobePath, probeArgs(path), opts.stallTimeoutMs);
      if (killed) {
        throw new MediaError('not_audio', killed === 'timeout'
          ? 'Reading this file took too long; it is not audio Reprise can read.'
          : 'This file describes far more streams than an audio file has; it is not audio Reprise can read.');
      }
      if (code !== 0) {
        // ffprobe's own words name server paths; people get a plain reason instead.
        throw new MediaError('not_audio', 'This file is not audio Reprise can read: its format is unknown or unsupported, or it is truncated or damaged.');
      }
      return interpretProbe(stdout);
    },

    async waveform(peaksPath) {
      return peaksFromFile(peaksPath, WAVEFORM_BARS);
    },

    async transcode(req: TranscodeRequest) {
      // Only a limiter's result needs measuring: plain gain moves every figure by the gain.
      const gain = req.loudness ? { filters: gainFilters(req.loudness), meter: req.loudness.method === 'limiter' } : undefined;
      const { durationMs, stderr } = await runTracked({
        ...opts,
        args: transcodeArgs(req.inputPath, req.input, req.outputs, req.peaksPath, gain),
        claimedMs: req.input.durationMs,
        written: req.outputs.map((o) => o.path).concat(req.peaksPath ?? []),
        signal: req.signal,
        limits: req.limits,
        onProgress: req.onProgress,
      });
      if (!gain?.meter) return { durationMs };
      const loudnessAfter = parseMeterSummary(stderr);
      if (!loudnessAfter) throw new MediaError('failed', 'The loudness of the normalized audio could not be measured.');
      return { durationMs, loudnessAfter };
    },

    analyzeLoudness: (req) => analyzeLoudness(opts, req),
  };
}
