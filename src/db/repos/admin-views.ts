import type { Kysely } from 'kysely';
import type { AdminViewsRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';
import { toFile } from './files.ts';

/** Cross-user reads for the admin area: bounded lists, never a whole table. */
export function adminViewsRepo(db: Kysely<Database>): AdminViewsRepo {
  const filesWithOwner = () => db.selectFrom('files').innerJoin('users', 'users.id', 'files.user_id').selectAll('files').select('users.username as owner_name');
  return {
    async activeFiles(limit) {
      const rows = await filesWithOwner().where('files.status', 'in', ['queued', 'running']).orderBy('files.created_at').orderBy('files.id').limit(limit).execute();
      return rows.map(({ owner_name, ...file }) => ({ file: toFile(file), username: owner_name }));
    },
    async recentFailures(limit) {
      const rows = await filesWithOwner().where('files.status', '=', 'failed').orderBy('files.updated_at', 'desc').orderBy('files.id').limit(limit).execute();
      return rows.map(({ owner_name, ...file }) => ({ file: toFile(file), username: owner_name }));
    },
    async workers(since) {
      const rows = await db.selectFrom('worker_heartbeats').selectAll().where('last_seen', '>=', since).orderBy('last_seen', 'desc').execute();
      return rows.map((r) => ({ id: r.pool_id, host: r.host, pid: Number(r.pid), lastSeen: Number(r.last_seen), version: r.version }));
    },
  };
}
