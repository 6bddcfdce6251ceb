import { rm } from 'node:fs/promises';
import path from 'node:path';
import { trimFilter } from './ffmpeg-args.ts';
import { runTracked } from './ffmpeg-run.ts';
import { oggCoverMetadata, type FfmpegOptions } from './ffmpeg.ts';
import { gainFilters } from './loudness.ts';
import { isOggMuxer } from './ogg-cover.ts';
import { outputSampleRate } from './presets.ts';
import { canReadInPlace, segmentEncodeArgs } from './segments/encode-args.ts';
import { joinSegments } from './segments/join.ts';
import { prependHeader } from './segments/wav-piped-header.ts';
import { planRangeInput } from './segment-range-input.ts';
import { MediaError, type Media, type SegmentEncodeRequest, type SegmentEncodeResult, type SegmentJoinRequest } from './types.ts';

/**
 * The Media seam's two segment operations: one segment of one preset as a tracked ffmpeg run (the
 * same watchdog, limits and cancel as a one-pass transcode), and the packet-level join.
 */
export function segmentMedia(opts: FfmpegOptions): Pick<Media, 'encodeSegment' | 'joinSegments'> {
  return {
    async encodeSegment(req: SegmentEncodeRequest): Promise<SegmentEncodeResult> {
      const { input, preset, segment } = req;
      if (req.loudness?.method === 'limiter') throw new Error('a limiter carries state across a seam: normalize in one pass');
      const rate = outputSampleRate(preset, input.sampleRate);
      const total = Math.round((input.durationMs / 1000) * rate);
      const claimedMs = Math.max(1, (((segment.encodeTo ?? total) - segment.encodeFrom) / rate) * 1000);
      const tracked = { ...opts, claimedMs, written: [req.outPath], signal: req.signal, limits: req.limits, onProgress: req.onProgress };
      const gain = req.loudness ? gainFilters(req.loudness) : '';

      const range = await planRangeInput(req.source, input, preset, segment, req.trim);
      if ('read' in range) {
        // Only this segment's bytes: raw PCM, or for the first segment a WAV behind the stored
        // header (its tags). The trim is in the byte range, the gain as always.
        const { layout, read, wavHeader } = range;
        const shifted = { ...segment, encodeFrom: read.encodeFrom, encodeTo: read.encodeTo };
        const extras = { progress: true, ...(gain ? { gain } : {}) };
        const bytes = read.end - read.start + 1;
        const inFile = req.source.localFile;
        if (!wavHeader && inFile !== undefined && canReadInPlace(inFile)) {
          // On disk the samples need not pass through this process: piping them cost ~0.7 s of
          // its CPU per 80 MB segment (bench/segmented.ts), ffmpeg reads the window itself.
          const window = { rawFormat: layout.rawFormat, sampleRate: layout.sampleRate, channels: layout.channels, path: inFile, start: read.start, end: read.end + 1 };
          await runTracked({ ...tracked, args: segmentEncodeArgs(window, input, preset, shifted, req.outPath, extras) });
          return { input: 'range', bytes, readBy: 'file' };
        }
        if (!wavHeader && req.source.url) {
          // On S3 likewise: ffmpeg asks for the range itself, from a presigned URL (decision 0031).
          const window = { rawFormat: layout.rawFormat, sampleRate: layout.sampleRate, channels: layout.channels, url: await req.source.url(), start: read.start, end: read.end + 1 };
          await runTracked({ ...tracked, args: segmentEncodeArgs(window, input, preset, shifted, req.outPath, extras) });
          return { input: 'range', bytes, readBy: 'url' };
        }
        const piped = wavHeader ? { container: 'wav' as const } : { rawFormat: layout.rawFormat, sampleRate: layout.sampleRate, channels: layout.channels };
        const args = segmentEncodeArgs(piped, input, preset, shifted, req.outPath, extras);
        const samples = await req.source.read({ start: read.start, end: read.end });
        await runTracked({ ...tracked, args, stdin: wavHeader ? prependHeader(wavHeader, samples) : samples });
        return { input: 'range', bytes };
      }

      const inputPath = await req.source.localPath();
      // As in one pass, the first segment of an Ogg output carries the cover as a comment.
      const wantsCover = segment.index === 0 && input.hasCover && isOggMuxer(preset.muxer);
      const coverPath = wantsCover ? await oggCoverMetadata(opts, inputPath, input, path.dirname(req.outPath)) : undefined;
      // The chain one pass puts before its resampler: the trim, then the gain.
      const chain = [trimFilter(req.trim, input.sampleRate), gain].filter(Boolean).join(',');
      try {
        const args = segmentEncodeArgs(inputPath, input, preset, segment, req.outPath, {
          progress: true,
          ...(coverPath ? { oggCoverMetadataPath: coverPath } : {}),
          ...(chain ? { gain: chain } : {}),
        });
        await runTracked({ ...tracked, args });
      } finally {
        if (coverPath) await rm(coverPath, { force: true });
      }
      return { input: 'file', reason: range.reason };
    },

    async joinSegments(req: SegmentJoinRequest) {
      try {
        await joinSegments(req.preset, req.segments, req.paths, req.outPath, opts.ffmpegPath);
      } catch (err) {
        // The join refuses rather than write a seam; the owner hears that, not a stack trace.
        const detail = err instanceof Error ? err.message : String(err);
        throw new MediaError('failed', `The ${req.preset.label} segments could not be joined exactly (${detail.slice(0, 200)}).`);
      }
    },
  };
}
