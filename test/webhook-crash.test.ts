import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { freshBackendEnv } from './helpers/backends.ts';
import { ApiClient } from './helpers/clients.ts';
import { waitFor } from './helpers/server.ts';
import { startReceiver } from './helpers/webhook-receiver.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

function startCli(dataDir: string, port: number, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: { ...process.env, ...env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '1', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_SECONDS: '120' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

describe('webhook delivery survives a crash', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('delivers after a SIGKILL mid-delivery, under the same webhook-id', async () => {
    // The first request is held open (the process dies while sending it); later ones succeed.
    let release: (() => void) | undefined;
    const receiver = await startReceiver((_r, index) =>
      index === 0 ? new Promise((resolve) => (release = () => resolve({ status: 500 }))) : { status: 204 },
    );
    cleanup.push(() => receiver.close());
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'reprise-hookcrash-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = await freshBackendEnv();
    const first = startCli(dataDir, port, env);
    cleanup.push(async () => void first.kill('SIGKILL'));
    await waitFor('server up', () => fetch(`${base}/healthz`).then((r) => (r.ok ? true : undefined), () => undefined), 30_000);

    const api = await ApiClient.signUp(base, 'crashhook');
    const endpoint = await api.json<{ id: string; secret: string }>('POST', '/webhooks', { url: `${receiver.url}/hook` });
    assert.equal(endpoint.status, 201);
    const test = await api.json<{ deliveryId: string }>('POST', `/webhooks/${endpoint.body.id}/test`);
    await waitFor('the first attempt in flight', async () => (receiver.received.length === 1 ? true : undefined), 10_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    release?.();

    const second = startCli(dataDir, port, env);
    cleanup.push(async () => {
      second.kill('SIGTERM');
      await new Promise((r) => (second.exitCode === null ? second.once('exit', r) : r(undefined)));
    });
    // On PostgreSQL the dead worker's lock is released by the liveness sweep (30 s of silence).
    await waitFor('the delivery after restart', async () => (receiver.received.length >= 2 ? true : undefined), 90_000);
    const [a, b] = receiver.received;
    assert.equal(a?.headers['webhook-id'], test.body.deliveryId);
    assert.equal(b?.headers['webhook-id'], test.body.deliveryId);
    const headers = { 'webhook-id': String(b?.headers['webhook-id']), 'webhook-timestamp': String(b?.headers['webhook-timestamp']), 'webhook-signature': String(b?.headers['webhook-signature']) };
    assert.equal((new Webhook(endpoint.body.secret).verify(b?.body ?? '', headers) as { type: string }).type, 'webhook.test');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(receiver.received.length, 2, 'delivered once after the restart, not more');
  });
});
