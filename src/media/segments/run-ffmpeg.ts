import { spawnTied } from '../spawn.ts';

/** Runs ffmpeg (or ffprobe) to completion; rejects with the end of its stderr when it fails. */
export function runFfmpeg(args: readonly string[], onStdout?: (chunk: Buffer) => void, ffmpegPath = 'ffmpeg'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnTied(ffmpegPath, args);
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => onStdout?.(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/**
 * MD5 of a file's decoded samples as signed little-endian PCM of `bits` bits (FLAC's STREAMINFO
 * MD5), hashed inside ffmpeg by its hash muxer rather than piping the PCM through us.
 */
export async function decodedMd5(path: string, bits: 16 | 24, ffmpegPath = 'ffmpeg'): Promise<Buffer> {
  const codec = bits === 16 ? 'pcm_s16le' : 'pcm_s24le';
  const out = await toolOutput(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', `file:${path}`, '-map', '0:a:0', '-c:a', codec, '-f', 'hash', '-hash', 'md5', 'pipe:1']);
  const hex = /^MD5=([0-9a-f]{32})$/m.exec(out)?.[1];
  if (!hex) throw new Error(`ffmpeg gave no MD5: ${out.slice(0, 200)}`);
  return Buffer.from(hex, 'hex');
}

/** Runs a tool and resolves with its stdout (ffprobe's JSON, for instance). */
export async function toolOutput(cmd: string, args: readonly string[]): Promise<string> {
  const chunks: Buffer[] = [];
  await runFfmpeg(args, (chunk) => chunks.push(chunk), cmd);
  return Buffer.concat(chunks).toString('utf8');
}
