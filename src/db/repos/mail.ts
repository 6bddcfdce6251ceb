import type { Kysely } from 'kysely';
import type { MailSendsRepo, MailSettingsRepo } from '../../domain/ports.ts';
import type { Database } from '../schema.ts';

export function mailSettingsRepo(db: Kysely<Database>): MailSettingsRepo {
  return {
    async get(userId) {
      const row = await db.selectFrom('mail_settings').select(['email', 'on_job_end']).where('user_id', '=', userId).executeTakeFirst();
      return { email: row?.email ?? null, onJobEnd: Number(row?.on_job_end ?? 0) === 1 };
    },
    async put(userId, settings, now) {
      const values = { email: settings.email, on_job_end: settings.onJobEnd ? 1 : 0, updated_at: now };
      await db
        .insertInto('mail_settings')
        .values({ user_id: userId, ...values })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
        .execute();
    },
  };
}

export function mailSendsRepo(db: Kysely<Database>): MailSendsRepo {
  return {
    async insertOnce(send) {
      const result = await db
        .insertInto('mail_sends')
        .values(send)
        .onConflict((oc) => oc.column('notification_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    find: (notificationId) => db.selectFrom('mail_sends').selectAll().where('notification_id', '=', notificationId).executeTakeFirst(),
    async updatePending(notificationId, patch) {
      const result = await db
        .updateTable('mail_sends')
        .set(patch)
        .where('notification_id', '=', notificationId)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
