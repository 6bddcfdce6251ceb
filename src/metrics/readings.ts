import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/** Queued and running transcodes with the same preset list, as one row. */
export interface JobsReading {
  status: 'queued' | 'running';
  presets: string[];
  count: number;
}

/** When a worker last said it was alive (epoch ms). */
export interface HeartbeatReading {
  worker: string;
  lastSeen: number;
}

/** What a scrape reads from the database: kept to two grouped queries whatever the traffic. */
export interface Readings {
  jobs(): Promise<JobsReading[]>;
  heartbeats(): Promise<HeartbeatReading[]>;
}

const presetList = (json: string): string[] => {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
};

/**
 * Job counts come from the files' own status (the same in both queues); rows are grouped by their
 * preset list, which has few distinct values, so the answer stays small however long the queue.
 */
async function jobs(db: Kysely<Database>): Promise<JobsReading[]> {
  const rows = await db
    .selectFrom('files')
    // A later run of some outputs makes its run_presets only: those are what it counts under.
    .select((eb) => ['status', eb.fn.coalesce('run_presets', 'presets').as('made'), eb.fn.countAll<string | number>().as('n')])
    .where('status', 'in', ['queued', 'running'])
    .groupBy((eb) => ['status', eb.fn.coalesce('run_presets', 'presets')])
    .execute();
  return rows.map((r) => ({ status: r.status as JobsReading['status'], presets: presetList(r.made), count: Number(r.n) }));
}

/**
 * Heartbeats as each queue keeps them. The embedded queue stamps `heartbeat_at` on the jobs a
 * worker holds, so an idle embedded worker has no heartbeat to show; graphile-worker pools keep a
 * row each in `worker_heartbeats` (see queue/liveness.ts) whether busy or not.
 */
export function databaseReadings(db: Kysely<Database>, queue: 'embedded' | 'graphile'): Readings {
  return {
    jobs: () => jobs(db),
    async heartbeats() {
      if (queue === 'graphile') {
        const { rows } = await sql<{ pool_id: string; last_seen: string | number }>`SELECT pool_id, last_seen FROM worker_heartbeats`.execute(db);
        return rows.map((r) => ({ worker: r.pool_id, lastSeen: Number(r.last_seen) }));
      }
      const rows = await db
        .selectFrom('jobs')
        .select((eb) => ['locked_by', eb.fn.max('heartbeat_at').as('last')])
        .where('state', '=', 'running')
        .where('locked_by', 'is not', null)
        .groupBy('locked_by')
        .execute();
      return rows.flatMap((r) => (r.locked_by && r.last !== null ? [{ worker: r.locked_by, lastSeen: Number(r.last) }] : []));
    },
  };
}
