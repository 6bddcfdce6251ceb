import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A local copy of an upload, kept only until it has been probed. */
export interface LocalCopy {
  path: string;
  release(): Promise<void>;
}

/** Writes go to disk in 1 MiB steps, as downloads do (blobs/s3.ts). */
const COPY_BUFFER_BYTES = 1024 * 1024;

/** Until `stream` wants more, or can take nothing more. */
function roomIn(stream: Writable): Promise<void> {
  if (stream.destroyed || !stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * Splits an upload on its way to remote storage: `stream` carries it to the bucket, and a copy
 * goes to a scratch file, so the web process can probe the upload as it does with local storage
 * and the job need not fetch and probe it again (decision 0030). The copy is a convenience: if it
 * cannot be written (this disk is full), `copy` settles to undefined, the upload goes on, and its
 * job probes it as before. `abandon()` (the upload failed) stops the copy; a copy that settled is
 * the caller's to release.
 *
 * The body is read by iteration, as the S3 client read it before: the multipart parser reports a
 * body cut short only to its reader (no 'error' event a pipe() would see), and that error must
 * reach the bucket's side or the upload would wait forever.
 */
export function teeToLocalCopy(body: Readable, scratchRoot: string): { stream: Readable; copy: Promise<LocalCopy | undefined>; abandon(): void } {
  const toBucket = new PassThrough({ highWaterMark: COPY_BUFFER_BYTES });
  const toDisk = new PassThrough({ highWaterMark: COPY_BUFFER_BYTES });
  // Their readers (the S3 upload, the copy's pipeline) see a failure through their reads; these
  // listeners keep an 'error' emitted before a reader is attached from ending the process.
  for (const side of [toBucket, toDisk]) side.on('error', () => undefined);
  const stopCopy = () => {
    toDisk.destroy();
  };
  void (async () => {
    try {
      for await (const chunk of body) {
        // The bucket's side gave up: stop reading (the caller answers, and drains the request).
        if (toBucket.destroyed) return stopCopy();
        toBucket.write(chunk);
        if (!toDisk.destroyed) toDisk.write(chunk);
        await Promise.all([roomIn(toBucket), roomIn(toDisk)]);
      }
      toBucket.end();
      toDisk.end();
    } catch (err) {
      const cause = err instanceof Error ? err : new Error(String(err));
      toBucket.destroy(cause);
      toDisk.destroy(cause);
    }
  })();
  const copy = (async (): Promise<LocalCopy | undefined> => {
    let dir: string | undefined;
    try {
      await mkdir(scratchRoot, { recursive: true });
      // Named for this process, so a start-up sweep can remove what a killed one left (deps.ts).
      dir = await mkdtemp(path.join(scratchRoot, `upload-${process.pid}-`));
      const file = path.join(dir, 'input');
      await pipeline(toDisk, createWriteStream(file, { highWaterMark: COPY_BUFFER_BYTES }));
      const kept = dir;
      return { path: file, release: () => rm(kept, { recursive: true, force: true }) };
    } catch {
      stopCopy();
      if (dir) await rm(dir, { recursive: true, force: true });
      return undefined;
    }
  })();
  return { stream: toBucket, copy, abandon: stopCopy };
}
