import type { Kysely } from 'kysely';
import type { EventsRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

export function eventsRepo(db: Kysely<Database>): EventsRepo {
  return {
    async insert(e) {
      const row = await db
        .insertInto('events')
        .values({ user_id: e.userId, type: e.type, data: JSON.stringify(e.data), created_at: e.createdAt })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
    async listSince(userId, afterId, limit) {
      const rows = await db
        .selectFrom('events')
        .selectAll()
        .where('user_id', '=', userId)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: Number(r.id), type: r.type as never, data: JSON.parse(r.data) as object }));
    },
    async latestId(userId) {
      const row = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('id')).where('user_id', '=', userId).executeTakeFirst();
      return Number(row?.id ?? 0);
    },
    async pruneBefore(time) {
      const result = await db.deleteFrom('events').where('created_at', '<', time).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
