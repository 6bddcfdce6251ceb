import { WAVEFORM_BARS } from './waveform.ts';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { probeArgs, transcodeArgs, type TranscodeExtras } from './ffmpeg-args.ts';
import { coverExtractArgs, coverMimeType, ffmetadataWithPicture, flacPictureBlock, isOggMuxer, MAX_OGG_COVER_BYTES } from './ogg-cover.ts';
import { peaksFromFile } from './peaks-file.ts';
import { ProgressParser } from './progress.ts';
import { RunGuard } from './run-guard.ts';
import { spawnTied } from './spawn.ts';
import { interpretProbe, sniffPlaylist } from './probe.ts';
import { MediaError, type Media, type ProbeResult, type TranscodeRequest } from './types.ts';

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

/** The last meaningful line ffmpeg printed, trimmed of its "[demuxer @ 0x…]" prefix. */
export function summarizeStderr(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]*\]\s*/, '').replace(/(file:)?\/[^\s:'"]+/g, 'the file').trim())
    .filter(Boolean);
  return (lines[lines.length - 1] ?? 'ffmpeg failed').slice(0, 300);
}

/**
 * Writes the input's cover as an Ogg picture comment into an ffmetadata file beside the outputs.
 * Cover art is a nicety: a picture that cannot be read or is too big leaves the outputs without it.
 */
async function oggCoverMetadata(opts: FfmpegOptions, req: TranscodeRequest, input: ProbeResult): Promise<string | undefined> {
  const first = req.outputs[0];
  if (!input.cover || !first || !req.outputs.some((o) => isOggMuxer(o.preset.muxer))) return undefined;
  const dir = path.dirname(first.path);
  const picture = path.join(dir, `cover.${input.cover.codec === 'png' ? 'png' : 'jpg'}`);
  const metadata = path.join(dir, 'cover.ffmetadata');
  try {
    const { code } = await run(opts.ffmpegPath, coverExtractArgs(req.inputPath, input.format, picture), opts.stallTimeoutMs);
    if (code !== 0 || (await stat(picture)).size > MAX_OGG_COVER_BYTES) return undefined;
    const block = flacPictureBlock(await readFile(picture), coverMimeType(input.cover), input.cover.width, input.cover.height);
    await writeFile(metadata, ffmetadataWithPicture(block));
    return metadata;
  } catch {
    return undefined;
  } finally {
    await rm(picture, { force: true });
  }
}

export function createFfmpegMedia(opts: FfmpegOptions): Media {
  async function probe(path: string): Promise<ProbeResult> {
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
  }

  return {
    probe,

    async waveform(peaksPath) {
      return peaksFromFile(peaksPath, WAVEFORM_BARS);
    },

    async transcode(req: TranscodeRequest) {
      // A probe rebuilt from a stored row lacks the depth and cover details some outputs need.
      const needsDetails = req.outputs.some((o) => o.preset.keepsDepth || (req.input.hasCover && isOggMuxer(o.preset.muxer)));
      let details = req.input;
      if (needsDetails && details.bits === undefined) {
        const { bits, cover } = await probe(req.inputPath);
        details = { ...details, bits, ...(cover ? { cover } : {}) };
      }
      const oggCoverMetadataPath = req.input.hasCover ? await oggCoverMetadata(opts, req, details) : undefined;
      try {
        return await runTranscode(opts, { ...req, input: details }, { oggCoverMetadataPath });
      } finally {
        if (oggCoverMetadataPath) await rm(oggCoverMetadataPath, { force: true });
      }
    },
  };
}

function runTranscode(opts: FfmpegOptions, req: TranscodeRequest, extras: TranscodeExtras) {
  return new Promise<{ durationMs: number }>((resolve, reject) => {
    if (req.signal.aborted) return reject(new MediaError('canceled', 'Canceled.'));
    const args = transcodeArgs(req.inputPath, req.input, req.outputs, req.peaksPath, extras);
    const child = spawnTied(opts.ffmpegPath, args);
    let stderr = '';
    let failure: MediaError | undefined;
    const parser = new ProgressParser(req.input.durationMs, req.onProgress);
    const written = req.outputs.map((o) => o.path).concat(req.peaksPath ?? []);
    const guard = new RunGuard(req.limits, written, req.input.durationMs);

    const kill = (why: MediaError) => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    // ffmpeg can hang without a word; no progress line for stallTimeoutMs ends the job.
    const stalled = new MediaError('stalled', `ffmpeg made no progress for ${Math.round(opts.stallTimeoutMs / 1000)} s and was stopped.`);
    let watchdog = setTimeout(() => kill(stalled), opts.stallTimeoutMs);
    const onAbort = () => kill(new MediaError('canceled', 'Canceled.'));
    req.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => kill(stalled), opts.stallTimeoutMs);
      parser.push(chunk);
      // Progress arrives twice a second: the moment to check length and bytes against the limits.
      const tooLong = guard.checkTime(parser.outTimeMs);
      if (tooLong) return kill(tooLong);
      guard.checkBytes().then(
        (tooLarge) => tooLarge && kill(tooLarge),
        () => kill(new MediaError('failed', 'The size of the outputs could not be measured.')),
      );
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8192)));
    child.on('error', (err) => kill(new MediaError('failed', `could not start ffmpeg: ${err.message}`)));
    child.on('close', (code) => {
      clearTimeout(watchdog);
      req.signal.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code !== 0) return reject(new MediaError('failed', summarizeStderr(stderr)));
      // A run shorter than one progress interval was never measured: do it once at the end.
      guard.checkFinal(parser.outTimeMs).then(
        (over) => (over ? reject(over) : resolve({ durationMs: Math.round(parser.outTimeMs) })),
        reject,
      );
    });
  });
}
