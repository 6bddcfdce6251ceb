/**
 * yazl checksums every byte with buffer-crc32, a byte-at-a-time table in JavaScript (~360 MB/s
 * here), which made CRC-32 the slowest step of a stored archive. Node ≥ 20.15 has zlib's CRC-32
 * built in (~2.7 GB/s here), the same polynomial and the same result. yazl calls
 * `crc32.unsigned(chunk, previous)` on the module object at call time, so pointing that one
 * function at zlib's speeds yazl up without forking it. See docs/decisions/0011-zip-downloads.md.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

interface BufferCrc32 {
  unsigned(data: Buffer, previous?: number | Buffer): number;
}

/** The buffer-crc32 instance yazl itself loads (resolved from yazl's own folder). */
function yazlsCrc32(): BufferCrc32 {
  const fromHere = createRequire(import.meta.url);
  const fromYazl = createRequire(fromHere.resolve('yazl'));
  return fromYazl('buffer-crc32') as BufferCrc32;
}

let done = false;

/** Replaces the checksum yazl uses with zlib's (once); false, and nothing changed, on an older Node. */
export function useNativeCrc32(): boolean {
  if (typeof zlib.crc32 !== 'function') return false;
  if (done) return true;
  done = true;
  const module = yazlsCrc32();
  const original = module.unsigned;
  module.unsigned = (data, previous) =>
    // yazl always passes a number; anything else keeps the library's own handling.
    typeof previous === 'number' || previous === undefined ? zlib.crc32(data, previous ?? 0) : original(data, previous);
  return true;
}
