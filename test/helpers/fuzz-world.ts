/**
 * What the fuzz test needs to know about a running server to aim well: two signed-in identities
 * (a browser session with its CSRF token, and an API bearer token) owning a real transcoded file,
 * a foreign user with a file of their own, and the names the server actually uses — ids from its
 * list endpoints, field names from its pages and OpenAPI document, preset ids, static assets.
 * All of it is read from the server, so new routes and fields are picked up without edits here.
 */
import { randomBytes } from 'node:crypto';
import { ApiClient, type FileJson } from './clients.ts';
import type { Route } from './fuzz-routes.ts';
import { waitFor, type TestServer } from './server.ts';

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

export type BodyKind = 'form' | 'json' | 'multipart';
export interface BodyHint {
  kinds: BodyKind[];
  fields: string[];
}

export interface World {
  port: number;
  routes: Route[];
  /** The fuzzed user: signed in both ways. */
  username: string;
  userId: string;
  browser: BrowserSession;
  api: ApiClient;
  bearer: string;
  /** Another user. Never used to send fuzz requests: only their ids and CSRF token are. */
  foreign: { userId: string; fileId: string; api: ApiClient; csrf: string };
  /** Ids the fuzzed user's list endpoints show, and the other user's; refreshed between routes. */
  ownIds: string[];
  otherIds: string[];
  presetIds: string[];
  staticFiles: string[];
  /** Form, JSON and query field names the server uses. */
  fieldNames: string[];
  /** Request headers its API description names. */
  headerNames: string[];
  /** What each "METHOD /pattern" takes, from its form or its API description. */
  hints: Map<string, BodyHint>;
  /** Counts accounts the fuzz test signs up, so each fresh username is new. */
  signups: number;
}

/** Uploads a tiny WAV as `api`'s user and waits until it is transcoded. */
export async function completedFile(api: ApiClient, presets: string): Promise<string> {
  const form = new FormData();
  form.append('presets', presets);
  form.append('file', new Blob([new Uint8Array(tinyWav())]), 'tone.wav');
  const res = await api.json<FileJson>('POST', '/files', form);
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  await waitFor('the fuzz fixture to be transcoded', async () => {
    const f = await api.json<FileJson>('GET', `/files/${res.body.id}`);
    if (f.body.status === 'failed') throw new Error(`fixture transcode failed: ${f.body.error}`);
    return f.body.status === 'completed' ? true : undefined;
  });
  return res.body.id;
}

async function bearerFor(base: string, username: string): Promise<string> {
  const res = await new ApiClient(base).json<{ token?: string }>('POST', '/tokens', { username, password: PASSWORD });
  if (!res.body.token) throw new Error(`no token for ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

export async function buildWorld(srv: TestServer, routes: Route[]): Promise<World> {
  const suffix = randomBytes(3).toString('hex');
  const username = `fuzz-${suffix}`;
  const browser = new BrowserSession(srv.url);
  await browser.signUp(username);
  const api = new ApiClient(srv.url);
  api.token = await bearerFor(srv.url, username);
  const user = await srv.app.deps.store.users.findByUsername(username);

  const otherName = `other-${suffix}`;
  const otherApi = await ApiClient.signUp(srv.url, otherName);
  const otherUser = await srv.app.deps.store.users.findByUsername(otherName);
  const otherBrowser = new BrowserSession(srv.url);
  await otherBrowser.signIn(otherName);
  if (!user || !otherUser) throw new Error('fuzz users were not created');

  const presetIds = (await api.json<{ presets: { id: string }[] }>('GET', '/presets')).body.presets.map((p) => p.id);
  const ownFile = await completedFile(api, presetIds.slice(0, 2).join(','));
  const foreignFile = await completedFile(otherApi, presetIds[0] ?? '');

  const world: World = {
    port: Number(new URL(srv.url).port),
    routes,
    username,
    userId: user.id,
    browser,
    api,
    bearer: api.token,
    foreign: { userId: otherUser.id, fileId: foreignFile, api: otherApi, csrf: otherBrowser.csrf },
    ownIds: [],
    otherIds: [],
    presetIds,
    staticFiles: [],
    fieldNames: [],
    headerNames: [],
    hints: new Map(),
    signups: 0,
  };
  await refreshIds(world);
  await learnVocabulary(world, ownFile);
  return world;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (isRecord(value)) {
    visit(value);
    Object.values(value).forEach((v) => walk(v, visit));
  }
}

/** The route pattern a concrete path belongs to ("/files/3f…/delete" → "/files/:id/delete"). */
function patternOf(routes: Route[], method: string, path: string): string | undefined {
  const escape = (t: string) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return routes.find((r) => r.methods.includes(method) && new RegExp(`^${r.path.split(/(:[A-Za-z0-9_]+|\*)/).map((p) => (p === '*' ? '.*' : p.startsWith(':') ? '[^/]+' : escape(p))).join('')}$`).test(path))?.path;
}

function addHint(hints: Map<string, BodyHint>, key: string, kind: BodyKind, fields: Iterable<string>): void {
  const hint = hints.get(key) ?? { kinds: [], fields: [] };
  if (!hint.kinds.includes(kind)) hint.kinds.push(kind);
  hint.fields = [...new Set([...hint.fields, ...fields])].sort();
  hints.set(key, hint);
}

/**
 * The server's vocabulary. Pages: every page a signed-in browser can open (GET routes outside
 * the API, ":id" set to a real file) gives its forms — action, encoding and field names — and
 * static asset links. API: the OpenAPI document gives request bodies (media types, properties,
 * following $refs), query and header parameters.
 */
async function learnVocabulary(world: World, fileId: string): Promise<void> {
  const names = new Set<string>(['_csrf']);
  const headers = new Set<string>();
  const statics = new Set<string>();
  const pages = world.routes.filter((r) => r.methods.includes('GET') && !r.path.startsWith('/api/') && !r.params.includes('*') && r.params.every((p) => p === 'id'));
  for (const page of pages) {
    const { text } = await world.browser.request(page.path.replace(':id', fileId));
    for (const m of text.matchAll(/(?:href|src)="\/static\/([^"?#]+)"/g)) statics.add(m[1] ?? '');
    for (const form of text.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
      const attrs = form[1] ?? '';
      const fields = [...(form[2] ?? '').matchAll(/<(?:input|select|textarea|button)\b[^>]*\bname="([^"]+)"/g)].map((m) => m[1] ?? '');
      fields.forEach((f) => names.add(f));
      const method = (/\bmethod="([^"]+)"/.exec(attrs)?.[1] ?? 'get').toUpperCase();
      const action = (/\baction="([^"]*)"/.exec(attrs)?.[1] ?? page.path).split('?')[0] ?? '';
      const pattern = patternOf(world.routes, method, action);
      if (pattern) addHint(world.hints, `${method} ${pattern}`, /multipart\/form-data/.test(attrs) ? 'multipart' : 'form', fields);
    }
  }

  const openapi = world.routes.find((r) => r.path.endsWith('/openapi.json'));
  if (openapi) {
    const doc: unknown = await (await fetch(`http://127.0.0.1:${world.port}${openapi.path}`)).json();
    const resolve = (node: unknown, seen = new Set<string>()): unknown => {
      if (!isRecord(node) || typeof node.$ref !== 'string' || seen.has(node.$ref)) return node;
      seen.add(node.$ref);
      let target: unknown = doc;
      for (const key of node.$ref.replace(/^#\//, '').split('/')) target = isRecord(target) ? target[key] : undefined;
      return resolve(target, seen);
    };
    /** Property names of a schema, following $refs and allOf/oneOf/anyOf, not into nested objects. */
    const properties = (schema: unknown): string[] => {
      const s = resolve(schema);
      if (!isRecord(s)) return [];
      const own = isRecord(s.properties) ? Object.keys(s.properties) : [];
      const combined = ['allOf', 'oneOf', 'anyOf'].flatMap((k) => (Array.isArray(s[k]) ? (s[k] as unknown[]).flatMap(properties) : []));
      return [...own, ...combined];
    };
    const base = isRecord(doc) && Array.isArray(doc.servers) && isRecord(doc.servers[0]) && typeof doc.servers[0].url === 'string' ? doc.servers[0].url : '';
    const paths = isRecord(doc) && isRecord(doc.paths) ? doc.paths : {};
    for (const [apiPath, item] of Object.entries(paths)) {
      if (!isRecord(item)) continue;
      const pattern = `${base}${apiPath.replace(/\{([^}]+)\}/g, ':$1')}`;
      const parameters = [item.parameters, ...Object.values(item).map((op) => (isRecord(op) ? op.parameters : undefined))].flatMap((p) => (Array.isArray(p) ? p : [])).map((p) => resolve(p));
      for (const p of parameters) {
        if (isRecord(p) && typeof p.name === 'string' && p.in === 'query') names.add(p.name);
        if (isRecord(p) && typeof p.name === 'string' && p.in === 'header') headers.add(p.name);
      }
      for (const [method, op] of Object.entries(item)) {
        const body = isRecord(op) ? resolve(op.requestBody) : undefined;
        const content = isRecord(body) && isRecord(body.content) ? body.content : {};
        for (const [type, media] of Object.entries(content)) {
          const kind: BodyKind | undefined = type.includes('json') ? 'json' : type.includes('multipart') ? 'multipart' : type.includes('urlencoded') ? 'form' : undefined;
          const fields = properties(isRecord(media) ? media.schema : undefined);
          fields.forEach((f) => names.add(f));
          if (kind) addHint(world.hints, `${method.toUpperCase()} ${pattern}`, kind, fields);
        }
      }
    }
  }
  // Read by the event stream but not in the API description.
  names.add('lastEventId');
  names.delete('');
  world.fieldNames = [...names].sort();
  world.staticFiles = [...statics].sort();
  world.headerNames = [...headers].sort();
}

/** Every "id"-like string in a JSON value. */
function idsIn(value: unknown, into: Set<string>): void {
  walk(value, (node) => {
    for (const [k, v] of Object.entries(node)) if (typeof v === 'string' && (k === 'id' || /Id$/.test(k))) into.add(v);
  });
}

/**
 * Ids of real objects, as a client would learn them: the JSON answers of the API's list routes
 * (GET routes without parameters), then of its GET routes with one ":id" for each id found.
 */
async function listIds(world: World, api: ApiClient): Promise<string[]> {
  const ids = new Set<string>();
  const gets = world.routes.filter((r) => r.path.startsWith('/api/') && r.methods.includes('GET') && !r.path.endsWith('/events'));
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${world.port}${path}`, { headers: { authorization: `Bearer ${api.token}` } });
    if (res.ok && res.headers.get('content-type')?.includes('json')) idsIn(await res.json(), ids);
    else await res.body?.cancel();
  };
  for (const r of gets.filter((r) => r.params.length === 0)) await get(r.path);
  const firstIds = [...ids].slice(0, 10);
  for (const r of gets.filter((r) => r.params.length === 1 && r.params[0] === 'id')) {
    for (const id of firstIds) await get(r.path.replace(':id', id));
  }
  return [...ids];
}

/** Ids both users see (preset ids, say) belong to neither and are left out. */
export async function refreshIds(world: World): Promise<void> {
  const own = await listIds(world, world.api);
  const other = [world.foreign.fileId, ...(await listIds(world, world.foreign.api))];
  world.ownIds = own.filter((id) => !other.includes(id));
  world.otherIds = [...new Set(other.filter((id) => !own.includes(id)))];
}

/**
 * Keeps both identities usable. A fuzzed request may sign out, sign in as someone else or sign
 * up (each ends or replaces our session), or revoke our token. The session is checked in the
 * store (no request); the token only after a request that changed something.
 */
export async function ensureIdentities(srv: TestServer, world: World, checkToken: boolean): Promise<void> {
  const sid = world.browser.sid;
  const row = sid ? await srv.app.db.selectFrom('sessions').select(['user_id', 'data']).where('sid', '=', sid).executeTakeFirst() : undefined;
  if (row?.user_id !== world.userId || !row.data.includes('"_csrf"')) await world.browser.signIn(world.username);
  if (checkToken && (await world.api.json('GET', '/files')).status !== 200) {
    world.api.token = world.bearer = await bearerFor(srv.url, world.username);
  }
}

/** Keeps one completed file of the fuzzed user around, so ids and outputs sometimes hit. */
export async function ensureOwnFile(srv: TestServer, world: World): Promise<void> {
  await ensureIdentities(srv, world, true);
  const files = await srv.app.deps.store.files.listForUser(world.userId);
  if (!files.some((f) => f.status === 'completed')) await completedFile(world.api, world.presetIds.slice(0, 2).join(','));
  await refreshIds(world);
}
