import { runFfmpeg, toolOutput } from './run-ffmpeg.ts';

/** One audio packet of an MP4 file, where ffprobe found it, in the stream's time base. */
export interface Mp4Packet {
  pts: number;
  duration: number;
  pos: number;
  size: number;
}

export interface Mp4Audio {
  packets: Mp4Packet[];
  profile: string;
  sampleRate: number;
  channels: number;
  timeBase: string;
  /** Whether the file also has a picture (cover art) stream. */
  hasPicture: boolean;
}

interface ProbeJson {
  streams?: { codec_type?: string; profile?: string; sample_rate?: string; channels?: number; time_base?: string }[];
}

/**
 * Parses ffprobe's `compact` packet lines (`pts=…|duration=…|size=…|pos=…`) as they arrive, so
 * that only the packets are held, not the text of a whole hour's listing.
 */
class PacketLines {
  readonly packets: Mp4Packet[] = [];
  private rest = '';

  push(chunk: Buffer): void {
    const lines = (this.rest + chunk.toString('latin1')).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  end(): Mp4Packet[] {
    this.line(this.rest);
    this.rest = '';
    return this.packets;
  }

  private line(line: string): void {
    if (line.trim() === '') return;
    const fields = new Map(line.trim().split('|').map((kv) => kv.split('=', 2) as [string, string]));
    this.packets.push({ pts: Number(fields.get('pts')), duration: Number(fields.get('duration')), pos: Number(fields.get('pos')), size: Number(fields.get('size')) });
  }
}

/** The first audio stream's packets, priming packet included (the edit list is not applied to packets). */
export async function readMp4Audio(file: string, ffprobePath = 'ffprobe'): Promise<Mp4Audio> {
  const lines = new PacketLines();
  await runFfmpeg(['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet=pts,duration,pos,size', '-of', 'compact=p=0', `file:${file}`], (chunk) => lines.push(chunk), ffprobePath);
  const streamsJson = await toolOutput(ffprobePath, [
    '-v', 'error', '-show_entries', 'stream=codec_type,profile,sample_rate,channels,time_base', '-of', 'json', `file:${file}`,
  ]);
  const streams = (JSON.parse(streamsJson) as ProbeJson).streams ?? [];
  const stream = streams.find((s) => s.codec_type === 'audio');
  if (!stream?.sample_rate || !stream.channels || !stream.time_base) throw new Error(`no audio stream in ${file}`);
  const packets = lines.end();
  if (packets.some((p) => !Number.isInteger(p.pos) || !Number.isInteger(p.size) || !Number.isInteger(p.duration))) throw new Error(`ffprobe gave a packet without position, size or duration in ${file}`);
  return { packets, profile: stream.profile ?? '', sampleRate: Number(stream.sample_rate), channels: stream.channels, timeBase: stream.time_base, hasPicture: streams.some((s) => s.codec_type === 'video') };
}
