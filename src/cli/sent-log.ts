import { readFile, rename, writeFile } from 'node:fs/promises';

/** As long as the server keeps an unfinished upload: the span in which a re-run is a resume. */
const REMEMBER_MS = 24 * 3600_000;

type Entries = Record<string, { fileId: string; at: number }>;

/**
 * Files this machine finished sending, by upload fingerprint. tus resumes the file that was cut
 * off; this makes the same command, run again after an interruption, skip the files that had
 * already arrived instead of sending (and transcoding) them a second time.
 */
export class SentLog {
  /** Parallel uploads finish at any moment: their writes are queued, never interleaved. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  private async read(): Promise<Entries> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Entries;
    } catch {
      // Missing or damaged: it is only a memory of past runs, so start a new one.
      return {};
    }
  }

  async find(fingerprint: string, now = Date.now()): Promise<string | undefined> {
    const entry = (await this.read())[fingerprint];
    return entry && now - entry.at < REMEMBER_MS ? entry.fileId : undefined;
  }

  record(fingerprint: string, fileId: string, now = Date.now()): Promise<void> {
    const write = this.queue.then(async () => {
      const entries = Object.fromEntries(Object.entries(await this.read()).filter(([, e]) => now - e.at < REMEMBER_MS));
      entries[fingerprint] = { fileId, at: now };
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(entries), { mode: 0o600 });
      await rename(tmp, this.file);
    });
    // A log that cannot be written costs only the skipping on a re-run, never the upload.
    this.queue = write.catch(() => undefined);
    return this.queue.then(() => undefined);
  }
}
