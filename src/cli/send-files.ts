import { formatBytes } from '../format.ts';
import type { AuthedApi } from './api.ts';
import { RateMeter, transferDetail, type Display } from './display.ts';
import type { LocalFile } from './expand.ts';
import type { FileResult } from './summary.ts';
import type { SentLog } from './sent-log.ts';
import { tusUpload, uploadFingerprint } from './tus-upload.ts';

/**
 * Files sent at once. The server allows five unfinished uploads per account; three keeps a fast
 * link busy while leaving room for a browser tab uploading at the same time.
 */
const PARALLEL_UPLOADS = 3;

export interface SendOptions {
  api: AuthedApi;
  files: readonly LocalFile[];
  /** Filled in place, index for index with `files`. */
  results: FileResult[];
  presets: readonly string[];
  name?: string;
  chunkSize?: number;
  storagePath: string;
  /** Finished uploads, of this run and earlier ones. */
  sent: SentLog;
  /** --again: send files anew even when an earlier run finished them. */
  again: boolean;
  display: Display;
  signal: AbortSignal;
}

/** Runs `work` over `items` with at most `limit` at a time, in order of start. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * A file an earlier run already sent (and that is still on the server) is not sent again: that
 * is what makes re-running an interrupted command a resume rather than a second copy.
 */
async function skipSent(opts: SendOptions, fingerprint: string, file: LocalFile, result: FileResult): Promise<boolean> {
  const fileId = opts.again ? undefined : await opts.sent.find(fingerprint);
  if (!fileId) return false;
  // Gone from the server (404), or it cannot say: then sending it is the safe choice.
  const current = await opts.api.getFile(fileId).catch(() => undefined);
  if (!current) return false;
  result.fileId = fileId;
  result.status = current.status;
  result.error = current.status === 'failed' || current.status === 'canceled' ? (current.error ?? `the job ended ${current.status}`) : null;
  opts.display.event(`sent      ${file.display} → ${fileId} by an earlier run (--again sends it anew)`);
  return true;
}

/** Uploads every file, recording each outcome in `results`; one refusal never stops the others. */
export async function sendFiles(opts: SendOptions): Promise<void> {
  const { display } = opts;
  await pool(opts.files, PARALLEL_UPLOADS, async (file, index) => {
    const result = opts.results[index];
    if (!result) return;
    if (opts.signal.aborted) {
      result.status = 'interrupted';
      result.error = 'interrupted before it was sent';
      return;
    }
    const fingerprint = uploadFingerprint({ server: opts.api.server, file, name: opts.name, presets: opts.presets });
    if (await skipSent(opts, fingerprint, file, result)) return;
    const key = `upload:${index}`;
    const meter = new RateMeter();
    // Plain output marks every quarter, so a log shows a long upload moving without flooding.
    let quarter = 0;
    display.plain(`uploading ${file.display} (${formatBytes(file.size)})`);
    display.progress(key, { label: file.display, fraction: 0, detail: 'starting' });
    const outcome = await tusUpload({
      server: opts.api.server,
      token: opts.api.token,
      file,
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      presets: opts.presets,
      ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
      storagePath: opts.storagePath,
      signal: opts.signal,
      onResume: (offset, total) => display.event(`resuming ${file.display} at ${formatBytes(offset)} of ${formatBytes(total)}`),
      onProgress: (sent, total) => {
        meter.add(sent);
        const fraction = total > 0 ? sent / total : 1;
        display.progress(key, { label: file.display, fraction, detail: transferDetail(sent, total, meter.perSecond()) });
        const reached = Math.floor(fraction * 4);
        if (reached > quarter && fraction < 1) {
          quarter = reached;
          display.plain(`uploading ${file.display} ${quarter * 25}% (${transferDetail(sent, total, meter.perSecond())})`);
        }
      },
    });
    if (outcome.ok) {
      await opts.sent.record(fingerprint, outcome.fileId);
      result.fileId = outcome.fileId;
      result.status = 'queued';
      display.done(key, `uploaded  ${file.display} → ${outcome.fileId}`);
    } else {
      result.status = outcome.interrupted ? 'interrupted' : outcome.refused ? 'refused' : 'error';
      result.error = outcome.reason;
      display.done(key, `${result.status.padEnd(9)} ${file.display}: ${outcome.reason}`);
    }
  });
}
