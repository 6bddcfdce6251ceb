import { PassThrough, type Readable } from 'node:stream';
import type { WavLayout } from './wav-header.ts';

/**
 * The first segment of a plain PCM WAV reads only its bytes, yet must carry the input's tags
 * (decision 0027, "the first segment"). It pipes ffmpeg a WAV of its own: the stored file's
 * header — every chunk before `data`, so LIST/INFO reaches `-map_metadata 0` exactly as from the
 * file — with the RIFF and `data` sizes made to tell the length actually piped, then the samples.
 */

/** The largest size a RIFF header can state. */
const MAX_RIFF_SIZE = 0xffffffff;

/**
 * The stored header bytes [0, dataOffset) with the sizes patched for `dataBytes` of samples, or
 * why not. `head` is the file's first bytes, which hold the whole header (readWavLayout found
 * `data` in them).
 */
export function pipedWavHeader(head: Buffer, layout: WavLayout, dataBytes: number): Buffer | string {
  if (layout.dataOffset > head.length || layout.dataOffset < 20) return 'the header is not in the bytes read';
  if (dataBytes < 0 || dataBytes % layout.blockAlign !== 0) return 'the piped samples are not whole sample frames';
  const riffSize = layout.dataOffset - 8 + dataBytes;
  if (riffSize > MAX_RIFF_SIZE) return 'the piped WAV would be larger than a RIFF size can say';
  // A copy: the caller's buffer is the stored file's head, and stays as stored.
  const header = Buffer.from(head.subarray(0, layout.dataOffset));
  header.writeUInt32LE(riffSize, 4);
  header.writeUInt32LE(dataBytes, layout.dataOffset - 4);
  return header;
}

/**
 * `header` then everything `samples` yields, as one stream for ffmpeg's stdin. An error of
 * `samples` (storage) ends the stream with that error; the stream's end for any reason (ffmpeg
 * exited and the runner destroyed it) destroys `samples`, so an unread S3 body is not left open.
 */
export function prependHeader(header: Buffer, samples: Readable): Readable {
  const piped = new PassThrough();
  piped.write(header);
  samples.on('error', (err: Error) => piped.destroy(err));
  piped.on('close', () => samples.destroy());
  samples.pipe(piped);
  return piped;
}
