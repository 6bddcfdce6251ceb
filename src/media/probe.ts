import { open } from 'node:fs/promises';
import { demuxerFromProbe } from './ffmpeg-args.ts';
import { MAX_INPUT_CHANNELS } from './presets.ts';
import { MediaError, type ProbeResult } from './types.ts';

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
  bit_rate?: string;
  disposition?: { attached_pic?: number };
  bits_per_raw_sample?: string;
  bits_per_sample?: number;
  width?: number;
  height?: number;
}

interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; bit_rate?: string; size?: string };
  streams?: FfprobeStream[];
}

const playlistMarkers = ['#EXTM3U', 'ffconcat', '[playlist]', '<?xml', '<asx', '#EXTINF', 'file '];

/** Cheap look at the first bytes, so that a playlist gets a message that names it. */
export async function sniffPlaylist(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return playlistMarkers.some((m) => head.toLowerCase().startsWith(m.toLowerCase()));
  } finally {
    await handle.close();
  }
}

/** Interprets ffprobe's JSON; every way an upload can fail to be audio gets its own message. */
export function interpretProbe(json: string): ProbeResult {
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(json) as FfprobeOutput;
  } catch {
    throw new MediaError('not_audio', 'This file could not be read as audio.');
  }
  const formatName = parsed.format?.format_name;
  const format = formatName ? demuxerFromProbe(formatName) : undefined;
  if (!format) throw new MediaError('not_audio', 'This file is not in an audio format Reprise accepts.');
  const audio = parsed.streams?.find((s) => s.codec_type === 'audio');
  if (!audio) throw new MediaError('not_audio', 'This file has no audio stream.');
  const sampleRate = Number(audio.sample_rate ?? 0);
  const channels = audio.channels ?? 0;
  const seconds = Number(parsed.format?.duration ?? audio.duration ?? 0);
  if (!audio.codec_name || sampleRate <= 0 || channels <= 0) {
    throw new MediaError('not_audio', 'The audio stream in this file cannot be decoded.');
  }
  if (channels > MAX_INPUT_CHANNELS) {
    // ffmpeg would fail later with words about its filter graph; say what is wrong with the file.
    throw new MediaError('too_many_channels', `This file has ${channels} audio channels; Reprise accepts up to ${MAX_INPUT_CHANNELS}.`, {
      channels,
      maxChannels: MAX_INPUT_CHANNELS,
    });
  }
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new MediaError('empty', 'This file contains no audio to transcode (it is empty or truncated).');
  }
  const picture = (parsed.streams ?? []).find(
    (s) => s.codec_type === 'video' && s.disposition?.attached_pic === 1 && (s.codec_name === 'mjpeg' || s.codec_name === 'png'),
  );
  const hasCover = picture !== undefined;
  return {
    format,
    codec: audio.codec_name,
    durationMs: Math.round(seconds * 1000),
    sampleRate,
    channels,
    bitRate: Number(audio.bit_rate ?? parsed.format?.bit_rate ?? 0) || 0,
    hasCover,
    bits: Number(audio.bits_per_raw_sample ?? 0) || audio.bits_per_sample || 0,
    ...(picture ? { cover: { codec: picture.codec_name as 'mjpeg' | 'png', width: picture.width ?? 0, height: picture.height ?? 0 } } : {}),
  };
}
