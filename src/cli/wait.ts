import { HttpError, type AuthedApi, type FileJson } from './api.ts';
import { followEvents } from './sse.ts';

/** Where a job ends; "deleted" is what the event stream says when someone removes the file. */
export const TERMINAL_STATUSES = new Set(['completed', 'failed', 'canceled', 'deleted']);

/** What a `file.updated` event carries (a deletion carries only id and status). */
interface FileEvent {
  id: string;
  status: string;
  progress?: number;
  error?: string | null;
}

export interface WaitCallbacks {
  /** A job moved (queued → running, progress). */
  onUpdate(id: string, status: string, progress: number): void;
  /** A job ended: `file` is the server's full view (outputs with their URLs), absent when deleted. */
  onEnd(id: string, status: string, file: FileJson | undefined, error: string | null): Promise<void> | void;
}

function parseEvent(data: string): FileEvent | undefined {
  try {
    const parsed = JSON.parse(data) as Partial<FileEvent>;
    return typeof parsed.id === 'string' && typeof parsed.status === 'string' ? (parsed as FileEvent) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Follows the files' jobs on the event stream until every one has ended. The stream only carries
 * what happens after it opens, so once it says `ready` the files are read once: a job that ended
 * while we were still uploading the others is caught there, and anything later arrives as events.
 */
export async function waitForFiles(api: AuthedApi, ids: readonly string[], callbacks: WaitCallbacks, signal: AbortSignal): Promise<void> {
  const pending = new Set(ids);
  if (pending.size === 0) return;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });

  // A file someone deleted meanwhile answers 404: that is an outcome, not an error.
  const current = (id: string) =>
    api.getFile(id).catch((err: unknown) => {
      if (err instanceof HttpError && err.status === 404) return undefined;
      throw err;
    });
  const settle = async (id: string, status: string, error: string | null) => {
    if (!pending.delete(id)) return;
    const file = status === 'deleted' ? undefined : await current(id);
    await callbacks.onEnd(id, file?.status ?? 'deleted', file, file?.error ?? error);
  };
  const apply = async (e: FileEvent) => {
    if (!pending.has(e.id)) return;
    if (TERMINAL_STATUSES.has(e.status)) await settle(e.id, e.status, e.error ?? null);
    else callbacks.onUpdate(e.id, e.status, e.progress ?? 0);
  };

  try {
    let caughtUp = false;
    for await (const message of followEvents({ url: api.url('/api/v1/events'), token: api.token, signal: stop.signal })) {
      if (message.event === 'ready' && !caughtUp) {
        caughtUp = true;
        for (const id of [...pending]) {
          const file = await current(id);
          await apply(file ? { id, status: file.status, progress: file.progress, error: file.error } : { id, status: 'deleted' });
        }
      } else if (message.event === 'file.updated') {
        const e = parseEvent(message.data);
        if (e) await apply(e);
      }
      if (pending.size === 0) break;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Closes the connection: breaking out of the loop alone would leave the stream open.
    stop.abort();
  }
}
