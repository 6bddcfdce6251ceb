/**
 * Reads an Ogg file's page headers (our own reading of RFC 3533, not ffmpeg's): the last granule
 * position is the stream's length in samples — for Opus at 48 kHz, counting the pre-skip that
 * OpusHead declares (RFC 7845), which a player drops.
 */
export function lastGranule(ogg: Buffer): bigint {
  for (let at = ogg.lastIndexOf('OggS'); at >= 0; at = ogg.lastIndexOf('OggS', at - 1)) {
    // A page header is 27 bytes: capture pattern, version 0, flags, then the 64-bit granule.
    if (ogg[at + 4] === 0 && at + 27 <= ogg.length) {
      const granule = ogg.readBigInt64LE(at + 6);
      if (granule >= 0n) return granule;
    }
  }
  throw new Error('no Ogg page with a granule position');
}

/** OpusHead's pre-skip: samples at 48 kHz the decoder discards at the start. */
export function opusPreSkip(ogg: Buffer): number {
  const at = ogg.indexOf('OpusHead');
  if (at < 0) throw new Error('no OpusHead');
  return ogg.readUInt16LE(at + 10);
}

/**
 * The file with every page's stream serial number and CRC-32 zeroed: ffmpeg picks the serial at
 * random unless the output is muxed bit-exact (a first segment is not: it carries the tags as one
 * pass writes them), and the CRC covers it. Everything else — headers, tags, packets, granules —
 * is left to compare. Throws unless the bytes are whole pages.
 */
export function withoutSerials(ogg: Buffer): Buffer {
  const out = Buffer.from(ogg);
  let at = 0;
  while (at < out.length) {
    if (out.toString('latin1', at, at + 4) !== 'OggS' || at + 27 > out.length) throw new Error(`no Ogg page at ${at}`);
    const segments = out[at + 26]!;
    let body = 0;
    for (let i = 0; i < segments; i++) body += out[at + 27 + i]!;
    out.fill(0, at + 14, at + 18);
    out.fill(0, at + 22, at + 26);
    at += 27 + segments + body;
  }
  if (at !== out.length) throw new Error('the last Ogg page is cut short');
  return out;
}
