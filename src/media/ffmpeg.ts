import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WAVEFORM_BARS } from './waveform.ts';
import { probeArgs, transcodeArgs, trimFilter } from './ffmpeg-args.ts';
import { coverExtractArgs, coverMimeType, ffmetadataWithPicture, flacPictureBlock, isOggMuxer, MAX_OGG_COVER_BYTES } from './ogg-cover.ts';
import { peaksFromFile } from './peaks-file.ts';
import { runTracked } from './ffmpeg-run.ts';
import { gainFilters, parseMeterSummary } from './loudness.ts';
import { analyzeLoudness } from './loudness-run.ts';
import { spawnTied } from './spawn.ts';
import { interpretProbe, sniffPlaylist } from './probe.ts';
import { segmentMedia } from './segment-media.ts';
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

export { summarizeStderr } from './ffmpeg-run.ts';

/**
 * Writes the input's cover as an Ogg picture comment into an ffmetadata file beside the outputs.
 * Cover art is a nicety: a picture that cannot be read or is too big leaves the outputs without it.
 */
export async function oggCoverMetadata(opts: FfmpegOptions, inputPath: string, input: ProbeResult, dir: string): Promise<string | undefined> {
  if (!input.cover) return undefined;
  const picture = path.join(dir, `cover.${input.cover.codec === 'png' ? 'png' : 'jpg'}`);
  const metadata = path.join(dir, 'cover.ffmetadata');
  try {
    const { code } = await run(opts.ffmpegPath, coverExtractArgs(inputPath, input.format, picture), opts.stallTimeoutMs);
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
  async function probe(file: string): Promise<ProbeResult> {
    if (await sniffPlaylist(file)) {
      throw new MediaError('playlist', 'Playlists and concat lists are not accepted: upload the audio file itself.');
    }
    const { stdout, code, killed } = await run(opts.ffprobePath, probeArgs(file), opts.stallTimeoutMs);
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

  /** A probe rebuilt from a stored row lacks the depth and cover details some outputs need. */
  async function withDetails(req: TranscodeRequest): Promise<ProbeResult> {
    const needed = req.outputs.some((o) => o.preset.keepsDepth || (req.input.hasCover && isOggMuxer(o.preset.muxer)));
    if (!needed || req.input.bits !== undefined) return req.input;
    const { bits, cover } = await probe(req.inputPath);
    return { ...req.input, bits, ...(cover ? { cover } : {}) };
  }

  return {
    probe,

    async waveform(peaksPath) {
      return peaksFromFile(peaksPath, WAVEFORM_BARS);
    },

    async transcode(req: TranscodeRequest) {
      // Only a limiter's result needs measuring: plain gain moves every figure by the gain.
      const chain = [trimFilter(req.trim, req.input.sampleRate), req.loudness ? gainFilters(req.loudness) : ''].filter(Boolean).join(',');
      const gain = chain ? { filters: chain, meter: req.loudness?.method === 'limiter' } : undefined;
      const input = await withDetails(req);
      const first = req.outputs[0];
      const wantsOggCover = input.hasCover && first && req.outputs.some((o) => isOggMuxer(o.preset.muxer));
      const oggCoverMetadataPath = wantsOggCover ? await oggCoverMetadata(opts, req.inputPath, input, path.dirname(first.path)) : undefined;
      const { durationMs, stderr } = await runTracked({
        ...opts,
        args: transcodeArgs(req.inputPath, input, req.outputs, req.peaksPath, gain, { oggCoverMetadataPath }),
        claimedMs: req.input.durationMs,
        written: req.outputs.map((o) => o.path).concat(req.peaksPath ?? []),
        signal: req.signal,
        limits: req.limits,
        onProgress: req.onProgress,
      }).finally(() => (oggCoverMetadataPath ? rm(oggCoverMetadataPath, { force: true }) : undefined));
      if (!gain?.meter) return { durationMs };
      const loudnessAfter = parseMeterSummary(stderr);
      if (!loudnessAfter) throw new MediaError('failed', 'The loudness of the normalized audio could not be measured.');
      return { durationMs, loudnessAfter };
    },

    analyzeLoudness: (req) => analyzeLoudness(opts, req),
    ...segmentMedia(opts),
  };
}
