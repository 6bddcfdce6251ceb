import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './errors.ts';

/**
 * Where the client keeps what it remembers between runs: the XDG config folder, like most
 * command-line tools, so one `reprise login` serves later commands and `logout` undoes it.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config');
  return path.join(base, 'reprise');
}

export const credentialsPath = (env?: NodeJS.ProcessEnv) => path.join(configDir(env), 'credentials.json');

export interface SavedCredentials {
  server: string;
  token: string;
  username?: string;
}

/** The folder is private too: it also holds the upload URLs used for resuming. */
export async function ensureConfigDir(env?: NodeJS.ProcessEnv): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export async function readCredentials(env?: NodeJS.ProcessEnv): Promise<SavedCredentials | undefined> {
  const file = credentialsPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<SavedCredentials>;
    if (typeof parsed.server === 'string' && typeof parsed.token === 'string') {
      return { server: parsed.server, token: parsed.token, ...(typeof parsed.username === 'string' ? { username: parsed.username } : {}) };
    }
  } catch {
    // Falls through to the one message below: the file is not ours to guess about.
  }
  throw new CliError(`${file} is damaged: run reprise logout, then reprise login`);
}

/**
 * Written to a temporary file created 0600 and renamed over the old one, so the token is never
 * readable by others, not even for a moment, and a crash never leaves half a file.
 */
export async function saveCredentials(creds: SavedCredentials, env?: NodeJS.ProcessEnv): Promise<string> {
  await ensureConfigDir(env);
  const file = credentialsPath(env);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  // A umask cannot widen 0600, but a leftover tmp file from a crash might have other bits.
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

export async function removeCredentials(env?: NodeJS.ProcessEnv): Promise<boolean> {
  const file = credentialsPath(env);
  const existed = (await readFile(file).then(() => true, () => false));
  await rm(file, { force: true });
  return existed;
}

/** "http://host:8080/" and "http://host:8080" are the same server; anything but http(s) is a mistake. */
export function normalizeServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`not a server address: ${raw} (expected e.g. http://localhost:8080)`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`not an http(s) address: ${raw}`, 2);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export interface Connection {
  server: string;
  token?: string;
}

/**
 * Flags beat environment variables, which beat what login saved. A saved token is only ever sent
 * to the server it was issued by: pointing --server elsewhere must not leak it to another host.
 */
export async function resolveConnection(flags: { server?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const saved = await readCredentials(env);
  const given = flags.server ?? env.REPRISE_URL;
  const server = given ? normalizeServer(given) : saved?.server;
  if (!server) throw new CliError('no server given: pass --server URL, set REPRISE_URL, or run reprise login --server URL', 2);
  const token = flags.token ?? env.REPRISE_TOKEN ?? (saved && saved.server === server ? saved.token : undefined);
  return token ? { server, token } : { server };
}

/** For commands that cannot work anonymously. */
export function requireToken(conn: Connection): Required<Connection> {
  if (!conn.token) {
    throw new CliError(`no token for ${conn.server}: run reprise login --server ${conn.server}, or pass --token / set REPRISE_TOKEN`, 2);
  }
  return { server: conn.server, token: conn.token };
}
