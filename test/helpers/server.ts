import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { buildApp, type App } from '../../src/deps.ts';
import { createLogger } from '../../src/log.ts';
import type { WorkerPool } from '../../src/queue/embedded.ts';
import { createServer } from '../../src/web/server.ts';
import { freshBackendEnv } from './backends.ts';

export interface TestServer {
  url: string;
  /** The settings it runs with, backends included (DATABASE_URL, S3_BUCKET, …). */
  env: Record<string, string>;
  app: App;
  dataDir: string;
  server: FastifyInstance;
  close(): Promise<void>;
}

/** A real server on a loopback port with its own data folder, SQLite file and workers. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? (await mkdtemp(path.join(os.tmpdir(), 'reprise-test-')));
  const fullEnv = { LOG_LEVEL: 'silent', WORKER_CONCURRENCY: '2', LOGIN_RATE_LIMIT: '1000', SIGNUP_RATE_LIMIT: '1000', API_RATE_LIMIT: '100000', ...(await freshBackendEnv()), ...env, DATA_DIR: dataDir };
  const config = loadConfig(fullEnv);
  const app = await buildApp(config, createLogger(config.logLevel));
  const pool: WorkerPool | undefined = await app.startWorkers(config.workerConcurrency);
  const server = await createServer(app, 'test-secret-that-is-long-enough-for-sessions');
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    env: fullEnv,
    app,
    dataDir,
    server,
    async close() {
      await server.close();
      await pool?.stop(2_000);
      await app.close();
      if (!env.DATA_DIR) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
