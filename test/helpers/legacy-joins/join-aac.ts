import { readFile, rm, writeFile } from 'node:fs/promises';
import { adtsHeader } from '../../../src/media/segments/adts.ts';
import { readMp4Audio, type Mp4Audio, type Mp4Packet } from './mp4-packets.ts';
import type { Segment } from '../../../src/media/segments/plan.ts';
import { runFfmpeg } from '../../../src/media/segments/run-ffmpeg.ts';

/** The packets' bytes: a segment's MP4 is read once (a few MB per minute), not packet by packet. */
async function packetBytes(file: string, packets: readonly Mp4Packet[]): Promise<Buffer[]> {
  const data = await readFile(file);
  return packets.map((p) => {
    if (p.pos + p.size > data.length) throw new Error(`an AAC packet lies past the end of ${file}`);
    return data.subarray(p.pos, p.pos + p.size);
  });
}

function keptPackets(segment: Segment, audio: Mp4Audio, frameSize: number): Mp4Packet[] {
  const { skipFrames, keepFrames } = segment;
  const kept = audio.packets.slice(skipFrames, keepFrames === undefined ? undefined : skipFrames + keepFrames);
  if (keepFrames !== undefined && kept.length !== keepFrames) {
    throw new Error(`AAC segment ${segment.index} has ${kept.length} packets where ${keepFrames} were planned`);
  }
  const whole = keepFrames === undefined ? kept.slice(0, -1) : kept;
  if (whole.some((p) => p.duration !== frameSize)) throw new Error(`AAC segment ${segment.index} has a packet that is not ${frameSize} samples`);
  return kept;
}

/**
 * Joins AAC-in-MP4 segments. Each segment's packets are found with ffprobe (the priming packet
 * is a packet like the others), the kept ones are written out as ADTS with headers we make, and
 * ffmpeg copies that stream into the MP4 with the first segment's tags and cover. The `setts`
 * bitstream filter gives the packets what ADTS cannot carry, as the encoder gave them in one
 * pass: the first packet starts one packet early (the priming, which the muxer turns into the
 * edit list) and the last lasts only as long as the last segment's last packet.
 */
export async function joinAac(segments: readonly Segment[], paths: readonly string[], outPath: string, ffmpegPath = 'ffmpeg', ffprobePath = 'ffprobe'): Promise<void> {
  const audios = await Promise.all(paths.map((p) => readMp4Audio(p, ffprobePath)));
  const first = audios[0]!;
  if (audios.some((a) => a.profile !== 'LC' || a.sampleRate !== first.sampleRate || a.channels !== first.channels || a.timeBase !== `1/${a.sampleRate}`)) {
    throw new Error('AAC segments differ in profile, rate, channels or time base');
  }
  const frameSize = segments[0]!.frameSize;
  const kept = audios.map((audio, i) => keptPackets(segments[i]!, audio, frameSize));
  if (first.packets[0]!.pts !== -frameSize) throw new Error('the first AAC segment does not start with one priming packet');
  const lastDuration = kept.at(-1)!.at(-1)!.duration;
  const total = kept.reduce((n, k) => n + k.length, 0);

  const adtsPath = `${outPath}.adts`;
  try {
    const chunks: Buffer[] = [];
    for (const [i, packets] of kept.entries()) {
      for (const bytes of await packetBytes(paths[i]!, packets)) chunks.push(adtsHeader(bytes.length, first.sampleRate, first.channels), bytes);
    }
    await writeFile(adtsPath, Buffer.concat(chunks));
    // Timestamps in samples (time_base 1/rate), as the encoder stamps them in one pass.
    const setts = `setts=ts=(N-1)*${frameSize}:duration=if(eq(N\\,${total - 1})\\,${lastDuration}\\,${frameSize}):time_base=1/${first.sampleRate}`;
    const args = [
      '-hide_banner', '-nostdin', '-loglevel', 'error',
      '-f', 'aac', '-i', `file:${adtsPath}`, '-f', 'mov', '-i', `file:${paths[0]}`,
      '-map', '0:a', '-map_metadata', '1',
    ];
    if (first.hasPicture) args.push('-map', '1:v:0', '-disposition:v:0', 'attached_pic');
    args.push('-c', 'copy', '-bsf:a', setts, '-movflags', '+faststart', '-f', 'ipod', '-y', `file:${outPath}`);
    await runFfmpeg(args, undefined, ffmpegPath);
  } finally {
    await rm(adtsPath, { force: true });
  }
}
