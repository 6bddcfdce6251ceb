import type { ProbeResult } from './types.ts';

/**
 * Cover art for Ogg outputs (Opus, Vorbis). ffmpeg 5.1's Ogg muxer cannot carry an attached
 * picture, but players and music servers read the picture from a METADATA_BLOCK_PICTURE comment:
 * the base64 of a FLAC picture block. The comment is too long for a command-line argument (Linux
 * allows 128 KiB per argument), so it reaches ffmpeg as an ffmetadata file, a second input whose
 * global tags become the Ogg stream's comments beside the tags mapped from the source.
 */

/** A bigger picture is left out of Ogg outputs rather than written into every comment header. */
export const MAX_OGG_COVER_BYTES = 8 * 1024 * 1024;
/** FLAC picture type 3: front cover. */
const FRONT_COVER = 3;

/** The FLAC METADATA_BLOCK_PICTURE body (big-endian fields, as FLAC's format description gives them). */
export function flacPictureBlock(image: Buffer, mimeType: string, width: number, height: number): Buffer {
  const mime = Buffer.from(mimeType, 'ascii');
  const head = Buffer.alloc(8 + mime.length + 4 + 20);
  let at = head.writeUInt32BE(FRONT_COVER, 0);
  at = head.writeUInt32BE(mime.length, at);
  at += mime.copy(head, at);
  at = head.writeUInt32BE(0, at); // no description
  at = head.writeUInt32BE(width, at);
  at = head.writeUInt32BE(height, at);
  at = head.writeUInt32BE(24, at); // colour depth in bits per pixel
  at = head.writeUInt32BE(0, at); // not an indexed-colour picture
  head.writeUInt32BE(image.length, at);
  return Buffer.concat([head, image]);
}

/** An ffmetadata file whose one global tag is the picture comment (`=`, `;`, `#`, `\` escaped). */
export function ffmetadataWithPicture(block: Buffer): string {
  const value = block.toString('base64').replace(/[=;#\\\n]/g, (c) => `\\${c}`);
  return `;FFMETADATA1\nMETADATA_BLOCK_PICTURE=${value}\n`;
}

export const isOggMuxer = (muxer: string) => muxer === 'ogg' || muxer === 'opus';

export const coverMimeType = (cover: NonNullable<ProbeResult['cover']>) => (cover.codec === 'png' ? 'image/png' : 'image/jpeg');

/** ffmpeg arguments that copy the input's attached picture, untouched, into `outPath`. */
export function coverExtractArgs(inputPath: string, format: string, outPath: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-protocol_whitelist', 'file', '-f', format, '-i', `file:${inputPath}`,
    '-map', '0:v:0', '-c', 'copy', '-frames:v', '1', '-f', 'image2', '-update', '1', '-y', `file:${outPath}`,
  ];
}
