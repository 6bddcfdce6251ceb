import { toolOutput } from '../../../src/media/segments/run-ffmpeg.ts';

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
  packets?: { pts?: string; duration?: string; pos?: string; size?: string }[];
  streams?: { codec_type?: string; profile?: string; sample_rate?: string; channels?: number; time_base?: string }[];
}

/** The first audio stream's packets, priming packet included (the edit list is not applied to packets). */
export async function readMp4Audio(file: string, ffprobePath = 'ffprobe'): Promise<Mp4Audio> {
  const json = await toolOutput(ffprobePath, [
    '-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet=pts,duration,pos,size', '-of', 'json', `file:${file}`,
  ]);
  const streamsJson = await toolOutput(ffprobePath, [
    '-v', 'error', '-show_entries', 'stream=codec_type,profile,sample_rate,channels,time_base', '-of', 'json', `file:${file}`,
  ]);
  const parsed = JSON.parse(json) as ProbeJson;
  const streams = (JSON.parse(streamsJson) as ProbeJson).streams ?? [];
  const stream = streams.find((s) => s.codec_type === 'audio');
  if (!stream?.sample_rate || !stream.channels || !stream.time_base) throw new Error(`no audio stream in ${file}`);
  const packets = (parsed.packets ?? []).map((p) => ({ pts: Number(p.pts), duration: Number(p.duration), pos: Number(p.pos), size: Number(p.size) }));
  if (packets.some((p) => !Number.isInteger(p.pos) || !Number.isInteger(p.size) || !Number.isInteger(p.duration))) throw new Error(`ffprobe gave a packet without position, size or duration in ${file}`);
  return { packets, profile: stream.profile ?? '', sampleRate: Number(stream.sample_rate), channels: stream.channels, timeBase: stream.time_base, hasPicture: streams.some((s) => s.codec_type === 'video') };
}
