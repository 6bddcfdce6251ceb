import { CliError } from './errors.ts';

/** What the CLI reads from the JSON API (a subset: the client keeps its own view of the wire). */
export interface OutputJson {
  preset: string;
  label?: string;
  extension?: string;
  size: number;
  url: string;
}

export interface FileJson {
  id: string;
  name: string;
  originalFilename?: string;
  status: string;
  progress: number;
  error: string | null;
  presets: string[];
  outputs: OutputJson[];
}

export interface PresetJson {
  id: string;
  label: string;
  extension: string;
  lossless: boolean;
  default: boolean;
  /** One of the signed-in user's own presets (servers before own presets leave it out). */
  own?: boolean;
}

/** The one human sentence in an RFC 9457 problem body, or the start of whatever came back. */
export function problemDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { detail?: unknown; title?: unknown };
    if (typeof parsed.detail === 'string' && parsed.detail) return parsed.detail;
    if (typeof parsed.title === 'string' && parsed.title) return parsed.title;
  } catch {
    // Not JSON (a proxy's HTML error page, say): show its start rather than nothing.
  }
  return body.replace(/\s+/g, ' ').trim().slice(0, 200) || 'no details given';
}

/** "connect ECONNREFUSED 127.0.0.1:9" is buried in fetch's `cause`; that is the useful part. */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

export const unreachable = (server: string, err: unknown) =>
  new CliError(`cannot reach ${server} (${networkReason(err)}): is the address right and the server running?`);

/** An HTTP refusal, keeping the status for callers that treat some (404) as an answer. */
export class HttpError extends CliError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** One clear sentence per HTTP failure, with what to do where there is something to do. */
export function httpFailure(server: string, what: string, status: number, body: string): HttpError {
  const detail = problemDetail(body);
  if (status === 401) return new HttpError(`${server} refused the token (401: ${detail}) — run reprise login, or pass another --token`, status);
  if (status === 403) return new HttpError(`${what}: not allowed (403: ${detail})`, status);
  return new HttpError(`${what}: ${status} ${detail}`, status);
}

/** A thin bearer-token client over fetch: every failure becomes a CliError with one line. */
export class Api {
  constructor(
    readonly server: string,
    readonly token?: string,
  ) {}

  url(pathOrUrl: string): string {
    return /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.server}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  /** A response with a 2xx status, or a CliError saying why not. */
  async request(method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal; what?: string } = {}): Promise<Response> {
    const headers = this.headers(init.headers);
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(this.url(path), { method, headers, body, signal: init.signal, redirect: 'follow' });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw unreachable(this.server, err);
    }
    if (!res.ok) throw httpFailure(this.server, init.what ?? `${method} ${path}`, res.status, await res.text().catch(() => ''));
    return res;
  }

  async json<T>(method: string, path: string, init: { body?: unknown; what?: string } = {}): Promise<T> {
    const res = await this.request(method, path, init);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`${this.server} answered ${path} with something that is not JSON: is this a Reprise server?`);
    }
  }

  getFile(id: string): Promise<FileJson> {
    return this.json<FileJson>('GET', `/api/v1/files/${encodeURIComponent(id)}`, { what: `file ${id}` });
  }

  /** Every file, newest first: the server answers a page at a time, so follow its cursor to the end. */
  async listFiles(onPage?: (fetched: number) => void): Promise<FileJson[]> {
    const all: FileJson[] = [];
    let before: string | null = null;
    do {
      const query: string = before ? `&before=${encodeURIComponent(before)}` : '';
      const page: { files: FileJson[]; next: string | null } = await this.json('GET', `/api/v1/files?limit=200${query}`, { what: 'listing files' });
      all.push(...page.files);
      before = page.next;
      onPage?.(all.length);
    } while (before);
    return all;
  }

  async listPresets(): Promise<PresetJson[]> {
    return (await this.json<{ presets: PresetJson[] }>('GET', '/api/v1/presets', { what: 'listing presets' })).presets;
  }

  /**
   * A cheap authenticated read before any upload: a wrong token or a wrong address is then one
   * line up front, rather than the same refusal once per file.
   */
  async checkToken(): Promise<void> {
    await this.request('GET', '/api/v1/tokens', { what: 'checking the token' }).then((res) => res.body?.cancel());
  }
}

/** An Api that surely carries a token: what uploads and the event stream need. */
export class AuthedApi extends Api {
  constructor(
    server: string,
    override readonly token: string,
  ) {
    super(server, token);
  }
}
