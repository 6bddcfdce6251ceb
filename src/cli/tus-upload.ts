import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Upload, type DetailedError, type UrlStorage } from 'tus-js-client';
import { networkReason, problemDetail } from './api.ts';
import type { LocalFile } from './expand.ts';
import { urlStorage } from './url-storage.ts';

export interface TusUploadOptions {
  server: string;
  token: string;
  file: LocalFile;
  name?: string;
  presets: readonly string[];
  /** Bytes per PATCH request; undefined: the whole file in one (resumable all the same). */
  chunkSize?: number;
  /** The JSON file where unfinished uploads' URLs are kept between runs. */
  storagePath: string;
  signal: AbortSignal;
  onProgress(sent: number, total: number): void;
  /** Called once when an earlier run's bytes are on the server and sending continues from there. */
  onResume(offset: number, total: number): void;
}

export type TusOutcome =
  | { ok: true; fileId: string }
  /** refused: the server said no (4xx) — sending again will not help; otherwise: network/server trouble. */
  | { ok: false; refused: boolean; reason: string; interrupted?: boolean };

const STOPPED = 'stopped before the last byte: run the same command again to resume';

/** Retries for a dropped connection: tus resumes from the server's offset each time. */
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10_000, 20_000];

function describeError(err: Error | DetailedError): { refused: boolean; reason: string } {
  const detailed = err as Partial<DetailedError>;
  const res = detailed.originalResponse;
  if (res) {
    const status = res.getStatus();
    return { refused: status >= 400 && status < 500, reason: `${problemDetail(res.getBody())} (${status})` };
  }
  if (detailed.causingError) return { refused: false, reason: `connection failed: ${networkReason({ cause: detailed.causingError })}` };
  return { refused: false, reason: err.message };
}

/**
 * The same file (path, size, modification time) sent to the same server with the same request
 * (name, presets). Hashed: tus looks entries up by prefix, and "…|flac" must not find "…|flac-cd".
 */
export function uploadFingerprint(opts: Pick<TusUploadOptions, 'server' | 'file' | 'name' | 'presets'>): string {
  const { file } = opts;
  const parts = [`${opts.server}/api/v1/uploads`, file.absolute, file.size, Math.round(file.mtimeMs), opts.name ?? '', opts.presets];
  return `reprise-${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`;
}

async function forget(storage: UrlStorage, fingerprint: string): Promise<void> {
  try {
    for (const entry of await storage.findUploadsByFingerprint(fingerprint)) await storage.removeUpload(entry.urlStorageKey);
  } catch {
    // Only tidiness is lost: a stale entry answers 404 next time and tus starts afresh.
  }
}

/**
 * Sends one file over tus. The upload URL is remembered under the upload's fingerprint, so
 * running the same command again after an interruption continues where the server stopped; a
 * changed file or a changed request starts over, since the server keeps the metadata it was
 * created with.
 */
export function tusUpload(opts: TusUploadOptions): Promise<TusOutcome> {
  const { file } = opts;
  const endpoint = `${opts.server}/api/v1/uploads`;
  const fingerprint = uploadFingerprint(opts);
  const metadata: Record<string, string> = { filename: file.absolute.split(/[\\/]/).pop() ?? 'upload' };
  if (opts.name) metadata.name = opts.name;
  if (opts.presets.length > 0) metadata.presets = opts.presets.join(',');

  const storage = urlStorage(opts.storagePath);
  if (opts.signal.aborted) return Promise.resolve({ ok: false, refused: false, reason: STOPPED, interrupted: true });
  // tus reads a fs.ReadStream by its path, slice by slice; this stream itself only names the file.
  const source = createReadStream(file.absolute);
  source.on('error', () => undefined);
  return new Promise<TusOutcome>((resolve) => {
    let resuming = false;
    let firstProgress = true;
    const settle = (outcome: TusOutcome) => {
      opts.signal.removeEventListener('abort', onAbort);
      source.destroy();
      resolve(outcome);
    };
    const upload = new Upload(source, {
      endpoint,
      headers: { authorization: `Bearer ${opts.token}` },
      metadata,
      uploadSize: file.size,
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      retryDelays: RETRY_DELAYS_MS,
      urlStorage: storage,
      fingerprint: () => Promise.resolve(fingerprint),
      storeFingerprintForResuming: true,
      // Forgotten in onSuccess instead, where it can be awaited: tus's own removal runs
      // unawaited and loses the race with the process exiting right after the summary.
      removeFingerprintOnSuccess: false,
      onProgress: (sent, total) => {
        // tus reports the server's offset first when it continues an earlier upload.
        if (firstProgress && resuming && sent > 0) opts.onResume(sent, total);
        firstProgress = false;
        opts.onProgress(sent, total);
      },
      onSuccess: ({ lastResponse }) => {
        const fileId = lastResponse.getHeader('reprise-file-id');
        // A finished upload is a file on the server now: its URL is of no more use (the sent log
        // in send-files.ts is what remembers the file).
        void forget(storage, fingerprint).finally(() =>
          settle(fileId
            ? { ok: true, fileId }
            : { ok: false, refused: false, reason: 'the upload finished but the server did not say which file it became (see: reprise files)' }));
      },
      onError: (err) => {
        const outcome = describeError(err);
        // The server dropped a refused upload; forgetting it too spares the next run a dead end.
        if (!outcome.refused) return settle({ ok: false, ...outcome });
        void forget(storage, fingerprint).finally(() => settle({ ok: false, ...outcome }));
      },
    });
    const onAbort = () => {
      // Not terminated: the bytes stay on the server for the next run to continue from.
      void upload.abort(false).then(() => settle({ ok: false, refused: false, reason: STOPPED, interrupted: true }));
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });

    upload.findPreviousUploads().then(
      (previous) => {
        const latest = [...previous].sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
        if (latest) {
          resuming = true;
          upload.resumeFromPreviousUpload(latest);
        }
        if (!opts.signal.aborted) upload.start();
      },
      // An unreadable store only costs the resume, not the upload.
      () => {
        if (!opts.signal.aborted) upload.start();
      },
    );
  });
}
