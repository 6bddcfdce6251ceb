import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from './clients.ts';
import { startServer, type TestServer } from './server.ts';

/** What most API suites start from: a server, one signed-up user and a scratch folder. */
export interface ServerWithUser {
  srv: TestServer;
  api: ApiClient;
  /** Removed, with all it holds, by close(). */
  dir: string;
  close(): Promise<void>;
}

export async function startServerWithUser(username: string, env: Record<string, string> = {}): Promise<ServerWithUser> {
  const srv = await startServer(env);
  const api = await ApiClient.signUp(srv.url, username);
  const dir = await mkdtemp(path.join(os.tmpdir(), `reprise-${username}-`));
  return {
    srv,
    api,
    dir,
    async close() {
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
