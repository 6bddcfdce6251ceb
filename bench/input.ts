import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MultipartFile } from './http.ts';
import { track } from './proc.ts';
import { repoRoot } from './util.ts';

export const cacheDir = path.join(repoRoot, '.bench-cache');

const SECONDS = 600;
const RATE = 44100;
const CHANNELS = 2;
const BYTES_PER_SAMPLE = 2;

/**
 * A 10-minute stereo 44.1 kHz 16-bit WAV: independent pink noise per channel under a quiet tone
 * (different pitch left and right), so encoders get real work and true stereo. Cached across runs.
 */
export function ensureInputWav(): Promise<string> {
  return ensureInputWavOf(SECONDS);
}

/** The same signal, `seconds` long (the segmented suite wants an hour). */
export async function ensureInputWavOf(seconds: number): Promise<string> {
  const SECONDS = seconds;
  const file = path.join(cacheDir, `input-${SECONDS}s-44k-16-stereo.wav`);
  const minSize = SECONDS * RATE * CHANNELS * BYTES_PER_SAMPLE;
  const existing = await stat(file).catch(() => undefined);
  if (existing && existing.size >= minSize) return file;

  await mkdir(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const noise = (seed: number) => `anoisesrc=color=pink:duration=${SECONDS}:sample_rate=${RATE}:amplitude=0.3:seed=${seed}`;
  const tone = (hz: number) => `sine=frequency=${hz}:duration=${SECONDS}:sample_rate=${RATE}`;
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-f', 'lavfi', '-i', noise(1),
    '-f', 'lavfi', '-i', noise(2),
    '-f', 'lavfi', '-i', tone(440),
    '-f', 'lavfi', '-i', tone(554.37),
    '-filter_complex',
    '[0:a][2:a]amix=inputs=2:normalize=0[l];[1:a][3:a]amix=inputs=2:normalize=0[r];' +
      '[l][r]join=inputs=2:channel_layout=stereo,volume=0.5[out]',
    '-map', '[out]', '-c:a', 'pcm_s16le', '-ar', String(RATE), '-ac', String(CHANNELS),
    '-f', 'wav', '-y', tmp,
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      track(child);
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(5, SECONDS / 60) * 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`generating the input failed (${code}): ${stderr.trim().slice(-500)}`));
      });
    });
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  return file;
}

/** A file on disk as a multipart file part, read as a stream. */
export async function diskFile(filePath: string, contentType: string): Promise<MultipartFile> {
  const { size } = await stat(filePath);
  return {
    filename: path.basename(filePath),
    contentType,
    size,
    content: () => createReadStream(filePath, { highWaterMark: 1024 * 1024 }),
  };
}

/** The canonical 44-byte header of a PCM WAV holding `dataBytes` of 16-bit stereo 44.1 kHz. */
export function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  const blockAlign = CHANNELS * BYTES_PER_SAMPLE;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(CHANNELS, 22);
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(BYTES_PER_SAMPLE * 8, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/**
 * A WAV of `dataBytes` of PCM generated on the fly: the header, then one precomputed 256 KiB
 * block of a noisy tone yielded over and over. Nothing of size `dataBytes` is ever held in memory.
 */
export function generatedWav(dataBytes: number): MultipartFile {
  const block = Buffer.alloc(256 * 1024);
  let seed = 12345;
  for (let i = 0; i < block.length; i += 2) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = ((seed >>> 16) & 0x7fff) - 0x4000;
    const tone = Math.sin((i / 4) * ((2 * Math.PI * 440) / RATE)) * 8000;
    block.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(tone + noise / 4))), i);
  }
  const header = wavHeader(dataBytes);
  return {
    filename: `generated-${dataBytes}.wav`,
    contentType: 'audio/wav',
    size: header.length + dataBytes,
    async *content() {
      yield header;
      let left = dataBytes;
      while (left > 0) {
        const n = Math.min(left, block.length);
        yield n === block.length ? block : block.subarray(0, n);
        left -= n;
      }
    },
  };
}
