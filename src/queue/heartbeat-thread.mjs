// @ts-check
/**
 * The worker pool's heartbeat, on a thread of its own (see liveness.ts). Plain JavaScript: a
 * worker thread does not inherit the tsx loader the main thread runs under, whichever way the
 * process was started. It owns one database connection, so neither a busy event loop nor a busy
 * connection pool on the main thread can delay a beat.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';

/** @type {{ connectionString: string; poolId: string; host: string; pid: number; version: string; intervalMs: number; slots: number }} */
const me = workerData;

// The database's clock, not this machine's: the sweeper compares against the same clock.
const BEAT = `INSERT INTO worker_heartbeats (pool_id, host, pid, last_seen, version, slots)
  VALUES ($1, $2, $3, (extract(epoch from clock_timestamp()) * 1000)::bigint, $4, $5)
  ON CONFLICT (pool_id) DO UPDATE SET last_seen = EXCLUDED.last_seen`;

/** @type {pg.Client | undefined} */
let client;

/** A connection, opened again after a failure (the server restarted, the network dropped). */
async function connection() {
  if (client) return client;
  const fresh = new pg.Client({ connectionString: me.connectionString, connectionTimeoutMillis: 5_000 });
  fresh.on('error', () => {
    if (client === fresh) client = undefined;
  });
  await fresh.connect();
  client = fresh;
  return fresh;
}

/** @param {unknown} err */
function report(err) {
  const client_ = client;
  client = undefined;
  void client_?.end().catch(() => undefined);
  parentPort?.postMessage({ warn: err instanceof Error ? err.message : String(err) });
}

let beating = false;
async function beat() {
  // A beat still waiting on the database is not stacked with another.
  if (beating) return;
  beating = true;
  try {
    await (await connection()).query(BEAT, [me.poolId, me.host, me.pid, me.version, me.slots]);
  } catch (err) {
    report(err);
  } finally {
    beating = false;
  }
}

void beat();
const timer = setInterval(() => void beat(), me.intervalMs);

parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  void (async () => {
    try {
      await (await connection()).query('DELETE FROM worker_heartbeats WHERE pool_id = $1', [me.poolId]);
    } catch {
      // The sweeper forgets a silent row on its own.
    }
    await client?.end().catch(() => undefined);
    parentPort?.close();
  })();
});
