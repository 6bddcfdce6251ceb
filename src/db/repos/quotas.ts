import type { Kysely, Selectable } from 'kysely';
import type { QuotaOverrides, QuotasRepo } from '../../domain/ports.ts';
import type { Database, UserQuotasTable } from '../schema.ts';

const none: QuotaOverrides = { quotaBytes: null, queuedJobs: null, filesPerDay: null, maxUploadBytes: null, maxInputSeconds: null, maxOutputBytes: null };

const num = (v: number | string | null) => (v === null ? null : Number(v));

const toOverrides = (row: Selectable<UserQuotasTable>): QuotaOverrides => ({
  quotaBytes: num(row.quota_bytes),
  queuedJobs: num(row.queued_jobs),
  filesPerDay: num(row.files_per_day),
  maxUploadBytes: num(row.max_upload_bytes),
  maxInputSeconds: num(row.max_input_seconds),
  maxOutputBytes: num(row.max_output_bytes),
});

export function quotasRepo(db: Kysely<Database>): QuotasRepo {
  return {
    async overridesOf(userId) {
      const row = await db.selectFrom('user_quotas').selectAll().where('user_id', '=', userId).executeTakeFirst();
      return row ? toOverrides(row) : { ...none };
    },
    async setOverrides(userId, o, now) {
      if (Object.values(o).every((v) => v === null)) {
        await db.deleteFrom('user_quotas').where('user_id', '=', userId).execute();
        return;
      }
      const columns = {
        quota_bytes: o.quotaBytes,
        queued_jobs: o.queuedJobs,
        files_per_day: o.filesPerDay,
        max_upload_bytes: o.maxUploadBytes,
        max_input_seconds: o.maxInputSeconds,
        max_output_bytes: o.maxOutputBytes,
        updated_at: now,
      };
      await db
        .insertInto('user_quotas')
        .values({ user_id: userId, ...columns })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(columns))
        .execute();
    },
    async storedBytes(userId) {
      // Two sums rather than a join, so a file with several outputs counts its source once.
      const inputs = await db
        .selectFrom('files')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<string | number>('input_size'), eb.lit(0)).as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      const outputs = await db
        .selectFrom('outputs')
        .innerJoin('files', 'files.id', 'outputs.file_id')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<string | number>('outputs.size'), eb.lit(0)).as('n'))
        .where('files.user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(inputs.n) + Number(outputs.n);
    },
    async openReservations(userId, now) {
      const row = await db
        .selectFrom('upload_reservations')
        .select((eb) => [eb.fn.countAll<string | number>().as('count'), eb.fn.coalesce(eb.fn.sum<string | number>('bytes'), eb.lit(0)).as('bytes')])
        .where('user_id', '=', userId)
        .where('settled', '=', 0)
        .where('expires_at', '>', now)
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), bytes: Number(row.bytes) };
    },
    async uploadsSince(userId, since) {
      const row = await db
        .selectFrom('upload_reservations')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('user_id', '=', userId)
        .where('created_at', '>=', since)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async lockUser(userId) {
      // A write to the user's row: PostgreSQL holds its row lock until the transaction ends, and
      // SQLite runs one writing transaction at a time anyway. Portable, unlike SELECT … FOR UPDATE.
      await db.updateTable('users').set((eb) => ({ username: eb.ref('username') })).where('id', '=', userId).execute();
    },
    async reserve(r) {
      await db
        .insertInto('upload_reservations')
        .values({ id: r.id, user_id: r.userId, bytes: r.bytes, settled: 0, created_at: r.createdAt, expires_at: r.expiresAt })
        .execute();
    },
    async openBytes(id) {
      const row = await db.selectFrom('upload_reservations').select('bytes').where('id', '=', id).where('settled', '=', 0).executeTakeFirst();
      return row ? Number(row.bytes) : undefined;
    },
    async settle(id) {
      await db.updateTable('upload_reservations').set({ settled: 1 }).where('id', '=', id).execute();
    },
    async release(id) {
      await db.deleteFrom('upload_reservations').where('id', '=', id).where('settled', '=', 0).execute();
    },
    async pruneBefore(before) {
      const result = await db.deleteFrom('upload_reservations').where('created_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
