/**
 * The fuzz test's own clients: a browser-like session whose cookie and CSRF token the raw
 * requests reuse (PageClient keeps its cookie jar private), and a tiny WAV to upload.
 */
export const PASSWORD = 'correct horse battery';

/** A browser: a cookie jar and the CSRF token of the last page, no redirects followed. */
export class BrowserSession {
  private cookies = new Map<string, string>();
  csrf = '';
  constructor(readonly base: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** The server-side session id, as the session store keys it (the cookie is "<sid>.<signature>"). */
  get sid(): string | undefined {
    const raw = this.cookies.get('reprise_session');
    if (!raw) return undefined;
    const value = decodeURIComponent(raw);
    return value.slice(0, value.lastIndexOf('.'));
  }

  async request(path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', this.cookieHeader);
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const text = await res.text();
    const token = /<meta name="csrf-token" content="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, text };
  }

  private async submit(path: string, fields: Record<string, string>): Promise<number> {
    await this.request(path);
    const body = new URLSearchParams({ ...fields, _csrf: this.csrf });
    const res = await this.request(path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return res.status;
  }

  /** Signs in afresh (a new session), ending on /files so that `csrf` belongs to the new session. */
  async signIn(username: string): Promise<void> {
    this.cookies.clear();
    const status = await this.submit('/login', { username, password: PASSWORD });
    if (status !== 303) throw new Error(`sign-in as ${username} failed: ${status}`);
    await this.request('/files');
  }

  async signUp(username: string): Promise<void> {
    const status = await this.submit('/signup', { username, password: PASSWORD });
    if (status !== 303) throw new Error(`sign-up as ${username} failed: ${status}`);
    await this.request('/files');
  }
}

/** A WAV ffprobe accepts: 0.2 s of 8 kHz mono 16-bit silence, made in memory. */
export function tinyWav(): Buffer {
  const data = Buffer.alloc(3200);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
