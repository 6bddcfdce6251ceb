import { id3v2Length, readMp3Header } from './mp3-frames.ts';
import type { SegmentReader } from './segment-file.ts';

/** The ID3v2 tag (or nothing) before a segment's first frame, read on its own. */
export async function readId3v2(reader: SegmentReader): Promise<Buffer> {
  const start = id3v2Length(Buffer.from(await reader.bytes(0, 10)));
  return Buffer.from(await reader.bytes(0, start));
}

/**
 * Every MP3 frame of a segment from `from` on, as views into the reader's window, with the same
 * rules as `readMp3Frames`: stops at a trailing ID3v1 tag, fails on anything that is not a frame.
 */
export async function* mp3Frames(reader: SegmentReader, from: number): AsyncGenerator<Buffer> {
  for (let at = from; at < reader.size; ) {
    const head = await reader.bytes(at, 4);
    if (reader.size - at === 128 && head.toString('latin1', 0, 3) === 'TAG') return;
    const header = readMp3Header(head, 0);
    if (!header || at + header.length > reader.size) throw new Error(`no whole MP3 frame at byte ${at}`);
    yield await reader.bytes(at, header.length);
    at += header.length;
  }
}
