/**
 * The fuzz test's world: two signed-in identities of one user (a browser session with its CSRF
 * token, and an API bearer token) owning a real transcoded file, a foreign user with a file of
 * their own, ids of real objects as the API's list routes show them, and the server's
 * vocabulary (fuzz-vocabulary.ts). It is kept usable while fuzzed requests sign out, revoke
 * tokens or delete files.
 */
import { randomBytes } from 'node:crypto';
import { ApiClient, type FileJson } from './clients.ts';
import { BrowserSession, PASSWORD, tinyWav } from './fuzz-browser.ts';
import type { Route } from './fuzz-routes.ts';
import { learnVocabulary, walk, type Vocabulary } from './fuzz-vocabulary.ts';
import { waitFor, type TestServer } from './server.ts';

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
  vocabulary: Vocabulary;
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
  // The first account is the instance's administrator: taken here, so that the fuzzed user is an
  // ordinary one, the admin routes answer it 404, and nothing it sends can reach the foreign user.
  await ApiClient.signUp(srv.url, `operator-${suffix}`);
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
    vocabulary: await learnVocabulary(srv.url, routes, browser, ownFile),
    signups: 0,
  };
  await refreshIds(world);
  return world;
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
