import { open, rm, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';

/**
 * Bounded-memory file access for the joins. A segment is read through a window of 256 KiB that
 * slides forward as the join walks its frames, and the joined file is written through a buffer
 * of about 1 MiB, with positional writes at the end for headers that need totals. Every window
 * refill and buffer flush awaits the file system, so a join gives the event loop a turn after
 * each 256 KiB of input it checksums instead of holding it for a whole file.
 */
const WINDOW = 256 * 1024;
const FLUSH_AT = 1024 * 1024;
/**
 * The most CPU time a join spends between two turns of the event loop. I/O alone is not enough on
 * a crowded machine: with a CPU share of a seventh of a core, 256 KiB of FLAC scanning held the
 * loop 330 ms. With a turn each 10 ms of work, a 20-minute FLAC join let it wait at most 23 ms
 * (load average 6.9); what is left above that is the OS not running the process.
 */
const SLICE_MS = 10;

export class SegmentReader {
  /** A fresh buffer per refill: views handed out earlier stay valid (the GC frees them). */
  private window = Buffer.alloc(0);
  private windowAt = 0;

  private constructor(private readonly file: FileHandle, readonly size: number, readonly path: string) {}

  static async open(path: string): Promise<SegmentReader> {
    const file = await open(path, 'r');
    try {
      return new SegmentReader(file, (await file.stat()).size, path);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /**
   * Up to `length` bytes at `at` (fewer only at the end of the file), as a view that stays valid.
   * Reads ahead a whole window, so walking a file front to back costs one read per MiB.
   */
  async bytes(at: number, length: number): Promise<Buffer> {
    const want = Math.max(0, Math.min(length, this.size - at));
    if (at >= this.windowAt && at + want <= this.windowAt + this.window.length) {
      return this.window.subarray(at - this.windowAt, at - this.windowAt + want);
    }
    const size = Math.min(Math.max(want, WINDOW), this.size - at);
    const buffer = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await this.file.read(buffer, done, size - done, at + done);
      if (bytesRead === 0) throw new Error(`${this.path} became shorter while it was joined`);
      done += bytesRead;
    }
    this.window = buffer;
    this.windowAt = at;
    return buffer.subarray(0, want);
  }

  /**
   * Everything the window holds from `at` on, at least `min` bytes (fewer only at the end of the
   * file): for scans that do not know how long a frame is until they find its end.
   */
  async from(at: number, min: number): Promise<Buffer> {
    await this.bytes(at, min);
    return this.window.subarray(at - this.windowAt);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/** Opens every segment, runs `use`, and closes them whatever happens. */
export async function withSegments<T>(paths: readonly string[], use: (readers: SegmentReader[]) => Promise<T>): Promise<T> {
  const opened = await Promise.allSettled(paths.map((p) => SegmentReader.open(p)));
  const readers = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  try {
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
    return await use(readers);
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
}

export class JoinOutput {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes written or buffered so far: where the next `write` lands. */
  position = 0;
  private flushedTo = 0;
  private turnAt = performance.now();

  private constructor(private readonly file: FileHandle) {}

  /** Appends; the bytes are written once about 1 MiB has gathered (keep no view into them mutable). */
  async write(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.position += bytes.length;
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
    if (performance.now() - this.turnAt >= SLICE_MS) {
      await turn();
      this.turnAt = performance.now();
    }
  }

  async flush(): Promise<void> {
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (let i = 0; i < chunks.length; ) {
      // writev may write less than asked: carry on from where it stopped.
      const { bytesWritten } = await this.file.writev(chunks.slice(i), this.flushedTo);
      if (bytesWritten === 0) throw new Error('the joined file takes no more bytes');
      this.flushedTo += bytesWritten;
      let left = bytesWritten;
      while (i < chunks.length && left >= chunks[i]!.length) left -= chunks[i++]!.length;
      if (left > 0) chunks[i] = chunks[i]!.subarray(left);
    }
  }

  /** Overwrites bytes already written (a header whose totals are known only at the end). */
  async patch(at: number, bytes: Buffer): Promise<void> {
    if (at + bytes.length > this.position) throw new Error('a patch must fall inside what was written');
    await this.flush();
    await this.file.write(bytes, 0, bytes.length, at);
  }

  /**
   * Creates `path`, runs `fill` with the output, flushes and closes it; on failure the partial
   * file is removed, so a failed join never leaves something that looks like an output.
   */
  static async writeFile(path: string, fill: (out: JoinOutput) => Promise<void>): Promise<void> {
    const out = new JoinOutput(await open(path, 'w'));
    try {
      await fill(out);
      await out.flush();
    } catch (error) {
      await out.file.close();
      await rm(path, { force: true });
      throw error;
    }
    await out.file.close();
  }
}
