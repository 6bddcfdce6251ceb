import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Inputs for test/media-limits.test.ts, made by ffmpeg in `dir` (small: a few KB to 1 MB). */
export function limitFixtures(dir: string) {
  async function ffmpeg(name: string, args: string[]): Promise<string> {
    const out = path.join(dir, name);
    await run('ffmpeg', ['-v', 'error', '-y', ...args, out]);
    return out;
  }

  /** Silent mono FLAC at a tiny sample rate: hours of audio in a few KB. */
  const silence = (name: string, seconds: number, rate: number) =>
    ffmpeg(name, ['-f', 'lavfi', '-i', `anullsrc=r=${rate}:cl=mono`, '-t', String(seconds), '-c:a', 'flac']);

  /** A mono 8 kHz WAV tone of exactly `seconds`. */
  const tone = (name: string, seconds: number) =>
    ffmpeg(name, ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}:sample_rate=8000`, '-c:a', 'pcm_s16le']);

  /** A WAV with `channels` channels and no channel layout, made from raw samples. */
  async function manyChannels(channels: number): Promise<string> {
    const raw = path.join(dir, `raw-${channels}.s16`);
    await writeFile(raw, randomBytes(2000 * 2 * channels));
    return ffmpeg(`ch${channels}.wav`, ['-f', 's16le', '-ar', '8000', '-ac', String(channels), '-i', raw, '-c:a', 'copy']);
  }

  /**
   * A FLAC whose STREAMINFO says 1 s while its frames hold ten minutes: ffprobe believes the
   * header, ffmpeg decodes every frame. STREAMINFO is the first block (file offset 8); its total
   * sample count is the low 4 bits of byte 13 and bytes 14–17.
   */
  async function lyingFlac(): Promise<string> {
    const file = await silence('liar.flac', 600, 8000);
    const bytes = await readFile(file);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'fLaC');
    bytes[8 + 13] = (bytes[8 + 13] ?? 0) & 0xf0;
    bytes.writeUInt32BE(8000, 8 + 14);
    await writeFile(file, bytes);
    return file;
  }

  return { ffmpeg, silence, tone, manyChannels, lyingFlac };
}
