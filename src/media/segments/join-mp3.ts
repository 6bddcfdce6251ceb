import { crc16Arc } from './crc.ts';
import { mp3Frames, readId3v2 } from './mp3-stream.ts';
import type { Segment } from './plan.ts';
import { JoinOutput, withSegments } from './segment-file.ts';
import { rewriteXingFrame, xingPadding } from './xing-header.ts';

/**
 * Joins MP3 segments encoded without the bit reservoir: each frame decodes on its own, so
 * frames can be taken from different encodes. Each segment gives the frames of its own samples
 * (its pre-roll frames dropped, its post-roll ones too), and the first segment's ID3 tag and
 * Xing/LAME header, rewritten for the whole, lead the file. Segment boundaries are multiples of
 * 1152 samples and every segment has the same encoder delay, so a segment's frame n holds what
 * the one-pass encode's frame at that place holds. The whole's end padding is the last segment's.
 *
 * Frames stream from segment to output; the Xing frame is written as the first segment has it
 * and overwritten at the end, once the frame count, byte count, seek table and music CRC are
 * known. Memory: the windows, the output buffer, the ID3 tag and one number per frame (where it
 * starts, for the seek table).
 */
export async function joinMp3(segments: readonly Segment[], paths: readonly string[], outPath: string): Promise<void> {
  await withSegments(paths, (readers) =>
    JoinOutput.writeFile(outPath, async (out) => {
      const starts: number[] = [];
      let bytes = 0;
      let musicCrc = 0;
      let firstXing: Buffer | undefined;
      let xingAt = 0;
      let padding = 0;
      for (const [i, reader] of readers.entries()) {
        const segment = segments[i]!;
        const head = await readId3v2(reader);
        const keepUntil = segment.keepFrames === undefined ? Infinity : segment.skipFrames + segment.keepFrames;
        let index = -1;
        let kept = 0;
        for await (const frame of mp3Frames(reader, head.length)) {
          if (index === -1) {
            // The segment's own Xing frame: the first one leads the file, the last one's padding ends it.
            if (i === readers.length - 1) padding = xingPadding(frame);
            if (i === 0) {
              firstXing = Buffer.from(frame);
              await out.write(head);
              xingAt = out.position;
              await out.write(firstXing);
            }
          } else if (index >= segment.skipFrames && index < keepUntil) {
            starts.push(bytes);
            bytes += frame.length;
            musicCrc = crc16Arc(frame, musicCrc);
            kept++;
            await out.write(frame);
          }
          index++;
        }
        if (index === -1) throw new Error('MP3 segment has no frames');
        if (segment.keepFrames !== undefined && kept !== segment.keepFrames) {
          throw new Error(`MP3 segment ${i} has ${kept} frames where ${segment.keepFrames} were planned`);
        }
      }
      const totals = { frames: starts.length, bytes, frameStart: (n: number) => starts[n], musicCrc };
      await out.patch(xingAt, rewriteXingFrame(firstXing!, totals, padding));
    }),
  );
}
