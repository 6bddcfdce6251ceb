/** One reader of the service's Server-Sent Events stream for every bench (GET /api/v1/events). */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface SseEvent {
  type: string;
  data: string;
  id: string | undefined;
  /** Date.now() when the chunk holding the event arrived: comparable with timestamps the service writes. */
  at: number;
  /** performance.now() at the same moment: for intervals measured inside the bench process. */
  mono: number;
}

export interface EventStream {
  close(): void;
}

/** Splits a buffer of SSE text into complete events; returns what is left of an unfinished one. */
export function parseEvents(buffer: string, emit: (type: string, data: string, id: string | undefined) => void): string {
  let end: number;
  while ((end = buffer.indexOf('\n\n')) >= 0) {
    const block = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    let type = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      // Per the SSE format: "field: value" with one optional space; several data lines join with \n.
      const colon = line.indexOf(':');
      if (colon <= 0) continue; // comments (": keep-alive") and blank fields
      const field = line.slice(0, colon);
      const value = line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length > 0) emit(type, data.join('\n'), id);
  }
  return buffer;
}

/**
 * Opens an event stream on a fresh socket (no agent: every stream is its own connection, as a
 * browser tab's would be) and resolves once the service has answered 200.
 */
export function openEventStream(port: number, token: string, onEvent: (event: SseEvent) => void = () => undefined, timeoutMs = 10_000): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/api/v1/events',
      agent: false,
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    const timer = setTimeout(() => req.destroy(new Error(`event stream did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        req.destroy();
        reject(new Error(`event stream answered ${res.statusCode}`));
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        // One timestamp per chunk: every event in it arrived at the same moment.
        const at = Date.now();
        const mono = performance.now();
        buffer = parseEvents(buffer + chunk, (type, data, id) => onEvent({ type, data, id, at, mono }));
      });
      res.on('error', () => undefined);
      resolve({ close: () => req.destroy() });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/**
 * Values by id for code that waits on them: an event for a file, a webhook for a job. The first
 * arrival wins and is remembered, so asking after it arrived answers at once.
 */
export class Arrivals<T> {
  private readonly got = new Map<string, T>();
  private readonly waiting = new Map<string, (value: T) => void>();

  put(id: string, value: T): void {
    if (this.got.has(id)) return;
    this.got.set(id, value);
    this.waiting.get(id)?.(value);
    this.waiting.delete(id);
  }

  wait(id: string, timeoutMs: number, what = 'event'): Promise<T> {
    const already = this.got.get(id);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} for ${id} not seen within ${timeoutMs / 1000} s`)), timeoutMs);
      this.waiting.set(id, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }
}

/** The id and status of a `file.updated` event, or undefined for any other event. */
export function fileUpdate(event: SseEvent): { id: string; status: string } | undefined {
  if (event.type !== 'file.updated') return undefined;
  const data = JSON.parse(event.data) as { id?: unknown; status?: unknown };
  return typeof data.id === 'string' && typeof data.status === 'string' ? { id: data.id, status: data.status } : undefined;
}

/**
 * The moments the user's files end (completed, failed or canceled) as the service announces them,
 * so a bench learns of completion without polling (polls cost the service CPU ffmpeg would
 * otherwise have had).
 */
export async function watchFileEnds(port: number, token: string): Promise<{ ended: Arrivals<SseEvent & { status: string }>; close(): void }> {
  const ended = new Arrivals<SseEvent & { status: string }>();
  const stream = await openEventStream(port, token, (event) => {
    const update = fileUpdate(event);
    if (update && ['completed', 'failed', 'canceled'].includes(update.status)) ended.put(update.id, { ...event, status: update.status });
  });
  return { ended, close: () => stream.close() };
}
