import { allowedDemuxers, type TranscodeExtras } from '../ffmpeg-args.ts';
import { isOggMuxer } from '../ogg-cover.ts';
import { outputChannels, outputSampleFormat, outputSampleRate, type Preset } from '../presets.ts';
import type { ProbeResult } from '../types.ts';
import { segmentCodec } from './codec-frames.ts';
import type { Segment } from './plan.ts';

/**
 * The ffmpeg command line that encodes one segment, as an independent process (later, a job on
 * any worker). Every segment decodes the input from its start and resamples it in one chain, then
 * trims by sample count: the samples each encoder sees are exactly those a one-pass encode sees
 * at that place (the resampler and dither have the same history), which is what makes the join
 * exact. Decoding the part before a segment costs little next to encoding it.
 *
 * The first segment carries the tags and cover as a one-pass output would; the others carry
 * nothing but audio (and no Xing or ID3 header for MP3), since the join keeps only their packets.
 */
export interface SegmentExtras extends TranscodeExtras {
  /** A filter chain applied before resampling, as one pass applies it (linear loudness gain). */
  gain?: string;
  /** Report `-progress` on stdout twice a second, for a tracked run. */
  progress?: boolean;
}

/**
 * Raw PCM on ffmpeg's stdin: the bytes of a WAV's data chunk that one segment needs (see
 * range-read.ts). The segment's trim points then count from the first sample piped.
 */
export interface PipedPcm {
  /** ffmpeg's raw demuxer for the samples, e.g. s16le. */
  rawFormat: string;
  sampleRate: number;
  channels: number;
}

/**
 * A WAV on ffmpeg's stdin: the stored file's own header (sizes patched to what is piped) and then
 * the bytes of the samples the first segment needs (see wav-piped-header.ts). The chunks before
 * `data` read as from the file, so the tags reach `-map_metadata 0`; trim points count from the
 * first sample piped, as for PipedPcm.
 */
export interface PipedWav {
  container: 'wav';
}

/**
 * Raw PCM read in place: the same bytes as PipedPcm, read by ffmpeg itself from the stored file
 * (disk storage) through its `subfile` protocol, a window onto a local file: `start` inclusive,
 * `end` exclusive, as subfile counts them.
 */
export interface PcmInFile extends PipedPcm {
  path: string;
  start: number;
  end: number;
}

/**
 * Raw PCM fetched by ffmpeg itself from a URL to the stored object (a presigned GET on S3,
 * decision 0031): the same bytes as PipedPcm, asked for as one HTTP range. `start` inclusive,
 * `end` exclusive, as ffmpeg's `offset` and `end_offset` count them.
 */
export interface PcmAtUrl extends PipedPcm {
  url: string;
  start: number;
  end: number;
}

/**
 * The protocols a URL's scheme needs, and no more: a redirect elsewhere is refused. Over TLS the
 * server's certificate is checked against the system's trust store (ffmpeg does not by default).
 */
function urlProtocolArgs(url: string): string[] {
  const scheme = new URL(url).protocol;
  if (scheme === 'http:') return ['-protocol_whitelist', 'http,tcp'];
  if (scheme === 'https:') return ['-protocol_whitelist', 'https,tls,tcp', '-tls_verify', '1'];
  throw new Error(`ffmpeg reads no ${scheme} URLs`);
}

/** subfile's own syntax separates options with commas; a path with one is read through the pipe instead. */
export const canReadInPlace = (file: string) => !file.includes(',');

type SegmentSource = string | PipedPcm | PipedWav | PcmInFile | PcmAtUrl;

const isPipedWav = (from: Exclude<SegmentSource, string>): from is PipedWav => 'container' in from;

/** Where ffmpeg reads the input: the stored file as probed, a WAV or raw PCM on stdin, or raw PCM from a window of the stored file or a URL. */
function inputArgs(from: SegmentSource, input: ProbeResult): string[] {
  if (typeof from === 'string') return ['-protocol_whitelist', 'file', '-format_whitelist', allowedDemuxers.join(','), '-f', input.format, '-i', `file:${from}`];
  if (isPipedWav(from)) return ['-protocol_whitelist', 'pipe', '-format_whitelist', 'wav', '-f', 'wav', '-i', 'pipe:0'];
  // The channel count without a layout, as the WAV demuxer gives a plain PCM WAV's channels.
  const raw = ['-format_whitelist', from.rawFormat, '-f', from.rawFormat, '-ar', String(from.sampleRate), '-ac', String(from.channels)];
  if ('path' in from) {
    if (!canReadInPlace(from.path)) throw new Error('a path with a comma cannot be read through subfile');
    return ['-protocol_whitelist', 'subfile,file', ...raw, '-i', `subfile,,start,${from.start},end,${from.end},,:file:${from.path}`];
  }
  if ('url' in from) {
    // -xerror: a body cut short is an I/O error, which ffmpeg otherwise takes for the end of the
    // input, and a short segment would be encoded without a word.
    return [...urlProtocolArgs(from.url), '-xerror', '-offset', String(from.start), '-end_offset', String(from.end), ...raw, '-i', from.url];
  }
  return ['-protocol_whitelist', 'pipe', ...raw, '-i', 'pipe:0'];
}

export function segmentEncodeArgs(from: SegmentSource, input: ProbeResult, preset: Preset, segment: Segment, outPath: string, extras: SegmentExtras = {}): string[] {
  const codec = segmentCodec(preset);
  if (!codec) throw new Error(`no segment facts for codec ${preset.codec}`);
  const rate = outputSampleRate(preset, input.sampleRate);
  const channels = outputChannels(preset, input.channels);
  const sampleFormat = outputSampleFormat(preset, { codec: input.codec, bits: input.bits ?? 0 });
  const first = segment.index === 0;
  if (first && typeof from !== 'string') {
    // Raw PCM has no header, so no tags; a cover is a picture stream (or an Ogg comment made
    // from it) that only the stored file gives.
    if (!isPipedWav(from)) throw new Error('the first segment carries tags: piped, it must be a WAV with its header, never raw PCM');
    if (input.hasCover) throw new Error('the first segment carries the cover: it reads the stored file');
  }

  const resample = [`osr=${rate}`, `ocl=${channels === 1 ? 'mono' : 'stereo'}`];
  if (sampleFormat) resample.push(`osf=${sampleFormat}`, 'dither_method=triangular');
  const trim = [`start_sample=${segment.encodeFrom}`];
  if (segment.encodeTo !== undefined) trim.push(`end_sample=${segment.encodeTo}`);
  const filter = [extras.gain, `aresample=${resample.join(':')}`, `atrim=${trim.join(':')}`, 'asetpts=PTS-STARTPTS'].filter(Boolean).join(',');

  const args = [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    ...(extras.progress ? ['-progress', 'pipe:1', '-stats_period', '0.5'] : []),
    ...inputArgs(from, input),
  ];
  // As in one pass (ffmpeg-args.ts): an Ogg output's cover comes as a second, ffmetadata input.
  const coverInput = first && isOggMuxer(preset.muxer) ? extras.oggCoverMetadataPath : undefined;
  if (coverInput) args.push('-protocol_whitelist', 'file', '-f', 'ffmetadata', '-i', `file:${coverInput}`);
  args.push('-map', '0:a:0');
  if (first) {
    args.push('-map_metadata', '0');
    if (preset.carriesCover && input.hasCover) args.push('-map', '0:v:0', '-c:v', 'copy', '-disposition:v:0', 'attached_pic');
    if (coverInput) args.push('-map_metadata:s:a:0', '1:g');
  } else {
    args.push('-map_metadata', '-1', '-fflags', '+bitexact');
  }
  args.push('-af', filter, '-c:a', preset.codec, ...codec.encoderArgs);
  if (preset.bitRate !== undefined) args.push('-b:a', String(preset.bitRate));
  if (preset.quality !== undefined) args.push('-q:a', String(preset.quality));
  args.push('-ar', String(rate), '-ac', String(channels));
  if (sampleFormat) args.push('-sample_fmt', sampleFormat);
  if (preset.muxer === 'mp3') {
    // Every segment has a Xing/LAME header (the last one's padding is the whole's); only the
    // first has tags. The join writes one header for the whole.
    args.push('-id3v2_version', first ? '3' : '0', '-write_xing', '1');
  }
  args.push('-f', preset.muxer, '-y', `file:${outPath}`);
  return args;
}
