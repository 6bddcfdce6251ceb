import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** A program using the JSON API with a bearer token. */
export class ApiClient {
  token = '';
  constructor(readonly base: string) {}

  async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (this.token) (init.headers as Record<string, string>).authorization = `Bearer ${this.token}`;
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    return fetch(`${this.base}/api/v1${url}`, init);
  }

  async json<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T; res: Response }> {
    const res = await this.request(method, url, body);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, res };
  }

  static async signUp(base: string, username: string, password = 'correct horse battery'): Promise<ApiClient> {
    const client = new ApiClient(base);
    const created = await client.json('POST', '/accounts', { username, password });
    if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
    const token = await client.json<{ token: string }>('POST', '/tokens', { username, password });
    client.token = token.body.token;
    return client;
  }

  async upload(file: string, fields: Record<string, string> = {}, filename = path.basename(file)) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([await readFile(file)]), filename);
    return this.json<FileJson>('POST', '/files', form);
  }
}

export interface FileJson {
  id: string;
  name: string;
  status: string;
  progress: number;
  error: string | null;
  presets: string[];
  outputs: { preset: string; size: number; durationMs: number; bitRate: number; url: string; mimeType: string }[];
  createdAt: string;
  updatedAt: string;
  code?: string;
  detail?: string;
}

/** A browser-like client: a cookie jar, CSRF tokens read from the pages, no redirects followed. */
export class PageClient {
  private cookies = new Map<string, string>();
  csrf = '';
  constructor(readonly base: string) {}

  async get(url: string): Promise<{ status: number; html: string; location: string | null }> {
    const res = await this.fetch(url, { method: 'GET' });
    const html = await res.text();
    const token = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, html, location: res.headers.get('location') };
  }

  async post(url: string, fields: Record<string, string>, opts: { csrf?: boolean; accept?: string } = {}) {
    const body = new URLSearchParams({ ...fields, ...(opts.csrf === false ? {} : { _csrf: this.csrf }) });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (opts.accept) headers.accept = opts.accept;
    const res = await this.fetch(url, { method: 'POST', body, headers });
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  }

  async fetch(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(`${this.base}${url}`, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }

  static async signUp(base: string, username: string, password = 'correct horse battery'): Promise<PageClient> {
    const client = new PageClient(base);
    await client.get('/signup');
    const res = await client.post('/signup', { username, password });
    if (res.status !== 303) throw new Error(`page sign-up failed: ${res.status} ${res.text.slice(0, 300)}`);
    await client.get('/files');
    return client;
  }
}
