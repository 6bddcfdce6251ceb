import type { Kysely } from 'kysely';
import type { NotificationsRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

export function notificationsRepo(db: Kysely<Database>): NotificationsRepo {
  return {
    async insertOnce(n) {
      const result = await db
        .insertInto('notifications')
        .values(n)
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    listForUser(userId, { unreadOnly, limit }) {
      let query = db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
      if (unreadOnly) query = query.where('dismissed_at', 'is', null);
      return query.orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    },
    async dismiss(userId, id, now) {
      // Scoped by owner: another user's id matches no row and reads as "not found".
      const row = await db.selectFrom('notifications').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      if (!row) return undefined;
      if (row.dismissed_at !== null) return row;
      await db.updateTable('notifications').set({ dismissed_at: now }).where('id', '=', id).where('user_id', '=', userId).execute();
      return { ...row, dismissed_at: now };
    },
    async dismissAll(userId, now) {
      const rows = await db
        .updateTable('notifications')
        .set({ dismissed_at: now })
        .where('user_id', '=', userId)
        .where('dismissed_at', 'is', null)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
  };
}
