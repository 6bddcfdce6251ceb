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
