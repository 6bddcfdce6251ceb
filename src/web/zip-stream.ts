/**
 * A ZIP written while it is sent: entries are opened one at a time, in order, only when the
 * archive reaches them, and their bytes pass through with the reader's back-pressure, so memory
 * stays flat whatever the total (yazl keeps only each entry's header fields for the directory at
 * the end). Audio is stored, not deflated: it does not compress, and storing keeps the archive's
 * size known up front. yazl switches to ZIP64 by itself past 4 GiB or 65,535 entries.
 */
import type { PassThrough, Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { useNativeCrc32 } from './zip-crc.ts';

useNativeCrc32();

export interface ZipSource {
  /** Path inside the archive, "/"-separated, already safe (see domain/archive-names.ts). */
  path: string;
  size: number;
  modifiedAt: Date;
  /** Opens the entry's bytes; called once, when the archive reaches the entry. */
  open(): Promise<Readable>;
}

export interface ZipStream {
  stream: Readable;
  /** The archive's exact length in bytes, for Content-Length. */
  size: number;
  /** Entries opened so far and not yet closed: 0 once the archive is done or abandoned. */
  openSources(): number;
}

export function zipStream(sources: readonly ZipSource[], opts: { forceZip64?: boolean } = {}): ZipStream {
  const zip = new ZipFile();
  const out = zip.outputStream as PassThrough;
  const open = new Set<Readable>();
  // Set when the reader is gone (finished, failed or disconnected): nothing more may be opened.
  let closed = false;

  const fail = (err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err)));
  zip.on('error', fail);

  for (const source of sources) {
    const options = { size: source.size, mtime: source.modifiedAt, compress: false, mode: 0o100644, forceZip64Format: opts.forceZip64 ?? false };
    zip.addReadStreamLazy(source.path, options, (give) => {
      if (closed) return;
      source.open().then(
        (stream) => {
          if (closed) {
            stream.destroy();
            return;
          }
          open.add(stream);
          stream.once('close', () => open.delete(stream));
          // yazl pipes the entry without watching it for errors: a failed read fails the archive.
          stream.once('error', fail);
          give(null, stream);
        },
        fail,
      );
    });
  }

  out.once('close', () => {
    closed = true;
    for (const stream of open) stream.destroy();
  });

  let size = -1;
  // With every size known and nothing deflated, yazl answers synchronously inside end().
  // (@types/yazl declares the callback without its argument, hence the cast.)
  const end = zip.end.bind(zip) as (options: { forceZip64Format: boolean; comment: string }, sized: (total: number) => void) => void;
  end({ forceZip64Format: opts.forceZip64 ?? false, comment: '' }, (total) => {
    size = total;
  });
  if (size < 0) {
    out.destroy();
    throw new Error('the archive size could not be computed up front');
  }
  return { stream: out, size, openSources: () => open.size };
}
