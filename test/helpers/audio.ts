import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dir = path.join(os.tmpdir(), 'reprise-test-fixtures-v1');

async function make(name: string, args: string[]): Promise<string> {
  const out = path.join(dir, name);
  if (existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp${path.extname(name)}`;
  await run('ffmpeg', ['-v', 'error', '-y', ...args, tmp]);
  await rename(tmp, out);
  return out;
}

async function text(name: string, content: string | Buffer): Promise<string> {
  await mkdir(dir, { recursive: true });
  const out = path.join(dir, name);
  await writeFile(out, content);
  return out;
}

/** Real audio made by ffmpeg's generators, cached between test runs. */
export const fixtures = {
  /** 4 s stereo 44.1 kHz 16-bit WAV. */
  wav: () => make('tone.wav', ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=4:sample_rate=44100', '-ac', '2', '-c:a', 'pcm_s16le']),
  /** 70 s stereo 44.1 kHz 16-bit WAV (~12 MB): more than one piece of a resumable upload. */
  longWav: () => make('long.wav', ['-f', 'lavfi', '-i', 'sine=frequency=330:duration=70:sample_rate=44100', '-ac', '2', '-c:a', 'pcm_s16le']),
  /** 3 s mono MP3 with tags and a JPEG cover. */
  mp3WithCover: () =>
    make('cover.mp3', [
      '-f', 'lavfi', '-i', 'sine=frequency=330:duration=3:sample_rate=44100',
      '-f', 'lavfi', '-i', 'color=c=teal:s=64x64:d=1',
      '-map', '0:a', '-map', '1:v', '-c:v', 'mjpeg', '-frames:v', '1', '-disposition:v', 'attached_pic',
      '-metadata', 'title=Test Tone', '-metadata', 'artist=Reprise', '-c:a', 'libmp3lame', '-b:a', '128k',
    ]),
  /** 3 s stereo 96 kHz 24-bit FLAC: checks clamping and dithered depth reduction. */
  hiRes: () => make('hires.flac', ['-f', 'lavfi', '-i', 'sine=frequency=1000:duration=3:sample_rate=96000', '-ac', '2', '-c:a', 'flac', '-sample_fmt', 's32', '-bits_per_raw_sample', '24']),
  /** Long enough to be caught mid-job (about 10 s of work for the three default presets). */
  long: () => make('long.flac', ['-f', 'lavfi', '-i', 'anoisesrc=color=pink:duration=420:sample_rate=44100:amplitude=0.2', '-ac', '2', '-c:a', 'flac']),
  /** A video with no audio stream. */
  videoOnly: () => make('video-only.mkv', ['-f', 'lavfi', '-i', 'color=c=blue:s=64x64:d=1', '-c:v', 'mjpeg']),
  text: () => text('notes.txt', 'These are not the droids you are looking for.\n'.repeat(50)),
  empty: () => text('empty.wav', Buffer.alloc(0)),
  /** The first bytes of a real MP3: a header and nothing decodable after it. */
  truncated: async () => {
    const { readFile } = await import('node:fs/promises');
    const full = await readFile(await fixtures.mp3WithCover());
    return text('truncated.mp3', full.subarray(0, 40));
  },
  /** An HLS playlist that tries to read a local file. */
  playlist: () => text('evil.m3u8', '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n'),
  /** An ffconcat list that points at a system file. */
  concat: () => text('evil.ffconcat', "ffconcat version 1.0\nfile '/etc/passwd'\n"),
  /** An HLS playlist disguised with an audio extension and a UTF-8 BOM. */
  disguisedPlaylist: () => text('song.mp3', '\uFEFF#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n'),
};

export interface StreamInfo {
  codec_name: string;
  codec_type: string;
  sample_rate?: string;
  channels?: number;
  sample_fmt?: string;
  bits_per_raw_sample?: string;
  disposition?: { attached_pic?: number };
}

/** What ffprobe says about a file: format, duration and streams. */
export async function ffprobe(file: string): Promise<{ format: string; durationMs: number; bitRate: number; streams: StreamInfo[]; tags: Record<string, string> }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', file]);
  const parsed = JSON.parse(stdout) as {
    format: { format_name: string; duration: string; bit_rate: string; tags?: Record<string, string> };
    streams: StreamInfo[];
  };
  return {
    format: parsed.format.format_name,
    durationMs: Math.round(Number(parsed.format.duration) * 1000),
    bitRate: Number(parsed.format.bit_rate),
    streams: parsed.streams,
    tags: Object.fromEntries(Object.entries(parsed.format.tags ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
}
