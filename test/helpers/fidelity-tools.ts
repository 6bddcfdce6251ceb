import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * Debian's own tools for each format, none of them ffmpeg: what the media fidelity suite judges
 * outputs by. Each runner resolves with exit code and output, never throws on a non-zero exit.
 */
export async function tool(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Raw PCM bytes, as a tool writes them to stdout. */
export async function toolBytes(cmd: string, args: string[]): Promise<Buffer> {
  const { stdout } = await exec(cmd, args, { maxBuffer: 512 * 1024 * 1024, encoding: 'buffer' });
  return stdout;
}

export interface MediaInfoTracks {
  general: Record<string, unknown>;
  audio: Record<string, unknown>;
}

/** mediainfo's JSON, its General and first Audio track. */
export async function mediainfo(file: string): Promise<MediaInfoTracks> {
  const { stdout } = await tool('mediainfo', ['--Output=JSON', file]);
  const tracks = (JSON.parse(stdout) as { media: { track: Record<string, unknown>[] } }).media.track;
  return { general: tracks.find((t) => t['@type'] === 'General') ?? {}, audio: tracks.find((t) => t['@type'] === 'Audio') ?? {} };
}

/** PCM of a FLAC file decoded by the reference decoder: interleaved, little-endian, signed, at its own depth. */
export const flacPcm = (file: string) => toolBytes('flac', ['-d', '-c', '-s', '--force-raw-format', '--endian=little', '--sign=signed', file]);

/** The audio bytes of a WAV file (the data chunk), found by walking its chunks. */
export function wavData(wav: Buffer): Buffer {
  let at = 12;
  while (at + 8 <= wav.length) {
    const id = wav.toString('latin1', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === 'data') return wav.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}
