/**
 * Where the samples of a plain PCM WAV file lie, read from its first bytes, so a segment can ask
 * blob storage for just the bytes it needs. Anything ffmpeg's WAV demuxer might read differently
 * from "one `fmt `, one `data`, nothing after it that ffmpeg would play" is refused with a reason,
 * and the caller decodes the file from its start as before. Notably ffmpeg 5.1's header scan takes
 * the last `data` chunk it finds, and its reader goes on into a `data` chunk after the one it
 * read; a `data` size of 0 or 0xFFFFFFFF, or one past the end of the file, reads to the end of the
 * file; odd chunk sizes are padded.
 */
export interface WavLayout {
  /** Byte offset of the first sample. */
  dataOffset: number;
  dataBytes: number;
  /** The ffmpeg codec the probe names for these samples, e.g. pcm_s16le. */
  codec: string;
  /** The ffmpeg raw demuxer that reads the same samples from a pipe, e.g. s16le. */
  rawFormat: string;
  sampleRate: number;
  channels: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
}

/** How much of the file's start holds the header we accept: chunks before `data` must fit in it. */
export const WAV_HEAD_BYTES = 64 * 1024;
/** Chunks after `data` (tags) are read and checked when they are at most this long. */
export const WAV_TAIL_BYTES = 64 * 1024;

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** The sub-format GUID's last 14 bytes, shared by KSDATAFORMAT_SUBTYPE_PCM and _IEEE_FLOAT. */
const SUBTYPE_TAIL = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);
/** Channel masks that name the plain layouts (front centre; front left and right) or none. */
const PLAIN_MASKS: Record<number, readonly number[]> = { 1: [0, 0x4], 2: [0, 0x3] };

/**
 * The format tag an extensible header stands for, when it is plain: PCM or float whose valid bits
 * fill the container, with a mono or stereo channel mask (or none). ffmpeg writes 24-bit WAVs so.
 */
function extensibleTag(head: Buffer, body: number, size: number, channels: number, bits: number): number | string {
  if (size < 40 || body + 40 > head.length || head.readUInt16LE(body + 16) < 22) return 'short extensible fmt chunk';
  if (head.readUInt16LE(body + 18) !== bits) return 'valid bits differ from the container';
  if (!(PLAIN_MASKS[channels] ?? []).includes(head.readUInt32LE(body + 20))) return `channel mask ${head.readUInt32LE(body + 20)}`;
  const sub = head.readUInt16LE(body + 24);
  if (head.readUInt16LE(body + 26) !== 0 || !head.subarray(body + 28, body + 40).equals(SUBTYPE_TAIL.subarray(2))) return 'extensible sub-format is not PCM';
  return sub;
}

/** Plain PCM and float formats, by format tag and bits: the codec ffmpeg names and its raw demuxer. */
function pcmCodec(tag: number, bits: number): { codec: string; rawFormat: string } | undefined {
  if (tag === WAVE_FORMAT_PCM) {
    if (bits === 8) return { codec: 'pcm_u8', rawFormat: 'u8' };
    if (bits === 16 || bits === 24 || bits === 32) return { codec: `pcm_s${bits}le`, rawFormat: `s${bits}le` };
  }
  if (tag === WAVE_FORMAT_IEEE_FLOAT && (bits === 32 || bits === 64)) return { codec: `pcm_f${bits}le`, rawFormat: `f${bits}le` };
  return undefined;
}

interface Chunk {
  id: string;
  /** Offset of the chunk's body. */
  body: number;
  size: number;
}

/** Walks chunk headers from `at` for as long as a whole header fits in `bytes`. */
function* chunks(bytes: Buffer, at: number): Generator<Chunk> {
  for (let o = at; o + 8 <= bytes.length; ) {
    const chunk = { id: bytes.toString('latin1', o, o + 4), body: o + 8, size: bytes.readUInt32LE(o + 4) };
    yield chunk;
    o += 8 + chunk.size;
  }
}

/** The layout of a plain PCM WAV from its first bytes and the object's size, or why not. */
export function readWavLayout(head: Buffer, objectSize: number): WavLayout | string {
  if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return 'not a RIFF WAVE file';
  let format: Omit<WavLayout, 'dataOffset' | 'dataBytes'> | undefined;
  for (const chunk of chunks(head, 12)) {
    if (chunk.id === 'data') {
      if (!format) return 'data before fmt';
      if (chunk.size === 0 || chunk.size === 0xffffffff) return `data size ${chunk.size} (ffmpeg reads to the end of the file)`;
      if (chunk.size % format.blockAlign !== 0) return 'data size is not a whole number of sample frames';
      if (chunk.body + chunk.size > objectSize) return 'data chunk runs past the end of the file';
      return { ...format, dataOffset: chunk.body, dataBytes: chunk.size };
    }
    // ffmpeg pads odd sizes to even offsets; rather than follow it there, such files decode from the start.
    if (chunk.size % 2 === 1) return `odd size of the ${JSON.stringify(chunk.id)} chunk`;
    if (chunk.id === 'fmt ') {
      if (format) return 'more than one fmt chunk';
      if (chunk.size < 16 || chunk.body + 16 > head.length) return 'short fmt chunk';
      const channels = head.readUInt16LE(chunk.body + 2);
      const sampleRate = head.readUInt32LE(chunk.body + 4);
      const blockAlign = head.readUInt16LE(chunk.body + 12);
      const bits = head.readUInt16LE(chunk.body + 14);
      let tag: number | string = head.readUInt16LE(chunk.body);
      if (tag === WAVE_FORMAT_EXTENSIBLE) tag = extensibleTag(head, chunk.body, chunk.size, channels, bits);
      if (typeof tag === 'string') return tag;
      const codec = pcmCodec(tag, bits);
      if (!codec) return `format tag ${tag} with ${bits} bits is not plain PCM`;
      if (channels < 1 || channels > 2) return `${channels} channels`;
      if (sampleRate < 1 || blockAlign !== channels * (bits / 8)) return 'inconsistent fmt chunk';
      format = { ...codec, sampleRate, channels, blockAlign };
    } else if (chunk.id === 'SMV0' || chunk.id === 'XMA2') {
      return `${chunk.id} chunk`;
    }
  }
  return `no data chunk in the first ${WAV_HEAD_BYTES} bytes`;
}

/** How many bytes follow the data chunk: 0 is the usual case and needs no further look. */
export const wavTailBytes = (layout: WavLayout, objectSize: number) => objectSize - (layout.dataOffset + layout.dataBytes);

/**
 * Checks the bytes after the data chunk: whole, even-sized chunks to the very end, none of them
 * another `data` or `fmt ` (ffmpeg would play a later data chunk, or take its header's size).
 * Undefined when they are harmless, else why not.
 */
export function checkWavTail(tail: Buffer): string | undefined {
  let end = 0;
  for (const chunk of chunks(tail, 0)) {
    if (chunk.id === 'data' || chunk.id === 'fmt ') return `a ${JSON.stringify(chunk.id)} chunk after the data`;
    if (chunk.size % 2 === 1) return `odd size of the ${JSON.stringify(chunk.id)} chunk after the data`;
    end = chunk.body + chunk.size;
  }
  return end === tail.length ? undefined : 'the bytes after the data are not whole chunks';
}
