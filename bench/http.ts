import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Arrivals, fileUpdate, openEventStream } from './sse.ts';
import { isRecord } from './util.ts';

export interface MultipartFile {
  filename: string;
  contentType: string;
  size: number;
  /** Yields exactly `size` bytes; called once. */
  content(): AsyncIterable<Buffer>;
}

export interface MultipartBody {
  contentType: string;
  length: number;
  stream: Readable;
}

/** multipart/form-data framed by hand, so the file part is streamed and the total length is known up front. */
export function multipartBody(fields: Readonly<Record<string, string>>, file: MultipartFile): MultipartBody {
  const boundary = `----reprise-bench-${randomBytes(12).toString('hex')}`;
  const fieldParts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  const head = Buffer.from(
    `${fieldParts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\n` +
      `Content-Type: ${file.contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* frames(): AsyncGenerator<Buffer> {
    yield head;
    yield* file.content();
    yield tail;
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: head.length + file.size + tail.length,
    stream: Readable.from(frames(), { objectMode: false, highWaterMark: 1024 * 1024 }),
  };
}

export interface PostResult {
  status: number;
  body: unknown;
  startedAt: number;
  /** performance.now() when the response head arrived. */
  respondedAt: number;
}

/** Streams a multipart body to a loopback server with a Content-Length, waits for the response. */
export function postStream(port: number, urlPath: string, body: MultipartBody, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method: 'POST',
        headers: { ...headers, 'Content-Type': body.contentType, 'Content-Length': String(body.length) },
      },
      (res) => {
        const respondedAt = performance.now();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON; keep the text for the error message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, startedAt, respondedAt });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`upload to ${urlPath} timed out`)));
    req.on('error', reject);
    // A server that answers early (413) closes the socket under us: the response or its error tells.
    pipeline(body.stream, req).catch((err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
  });
}

/** JSON request against the service's API; throws unless the status is the expected one. */
export async function apiJson(
  port: number,
  method: string,
  urlPath: string,
  opts: { token?: string; body?: unknown; expect: number },
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${urlPath}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== opts.expect) throw new Error(`${method} ${urlPath}: expected ${opts.expect}, got ${res.status}: ${text.slice(0, 300)}`);
  if (text === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (!isRecord(parsed)) throw new Error(`${method} ${urlPath}: not a JSON object`);
  return parsed;
}

/** Creates an account and returns a bearer token for it. */
export async function signUpAndLogIn(port: number): Promise<string> {
  const credentials = { username: `bench-${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('hex') };
  await apiJson(port, 'POST', '/accounts', { body: credentials, expect: 201 });
  const { token } = await apiJson(port, 'POST', '/tokens', { body: credentials, expect: 201 });
  if (typeof token !== 'string') throw new Error('POST /tokens returned no token');
  return token;
}

export async function uploadFile(port: number, token: string, file: MultipartFile, timeoutMs: number): Promise<PostResult & { id: string }> {
  const result = await postStream(port, '/api/v1/files', multipartBody({}, file), { authorization: `Bearer ${token}` }, timeoutMs);
  const id = isRecord(result.body) ? result.body.id : undefined;
  if (result.status !== 201 || typeof id !== 'string') {
    throw new Error(`upload failed with ${result.status}: ${JSON.stringify(result.body).slice(0, 300)}`);
  }
  return { ...result, id };
}

/**
 * Watches the user's event stream and notes when each file is reported completed (performance.now()),
 * so the bench learns of completion the moment the service announces it, without polling (polls
 * cost the service CPU that ffmpeg would otherwise have had). A failed job times out here.
 */
export async function watchCompletions(port: number, token: string): Promise<{ completedAt(id: string, timeoutMs: number): Promise<number>; close(): void }> {
  const completed = new Arrivals<number>();
  const stream = await openEventStream(port, token, (event) => {
    const update = fileUpdate(event);
    if (update?.status === 'completed') completed.put(update.id, event.mono);
  });
  return {
    completedAt: (id, timeoutMs) => completed.wait(id, timeoutMs, 'completion'),
    close: () => stream.close(),
  };
}
