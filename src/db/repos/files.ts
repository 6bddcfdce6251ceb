import type { Kysely, Updateable } from 'kysely';
import type { Preset } from '../../media/presets.ts';
import type { LoudnessOption, LoudnessReport } from '../../domain/loudness.ts';
import type { Trim } from '../../domain/trim.ts';
import type { FileRecord, FilesRepo } from '../../domain/ports.ts';
import type { InputDetails } from '../../domain/records.ts';
import type { Database, FileRow, FilesTable } from '../schema.ts';

/** Lists and flags are stored as JSON text and 0/1, which both databases keep alike. */
export const toFile = (row: FileRow): FileRecord => ({
  ...row,
  has_cover: Number(row.has_cover) === 1,
  presets: JSON.parse(row.presets) as string[],
  waveform: row.waveform === null ? null : (JSON.parse(row.waveform) as number[]),
  loudness: row.loudness === null ? null : (JSON.parse(row.loudness) as LoudnessOption),
  loudness_report: row.loudness_report === null ? null : (JSON.parse(row.loudness_report) as LoudnessReport),
  own_presets: row.own_presets === null ? [] : (JSON.parse(row.own_presets) as Preset[]),
  trim: row.trim === null ? null : (JSON.parse(row.trim) as Trim),
  input_details: row.input_details === null || row.input_details === undefined ? null : (JSON.parse(row.input_details) as InputDetails),
  run_presets: row.run_presets === null ? null : (JSON.parse(row.run_presets) as string[]),
});

const toRow = (file: FileRecord): FileRow => ({
  ...file,
  has_cover: file.has_cover ? 1 : 0,
  presets: JSON.stringify(file.presets),
  waveform: file.waveform === null ? null : JSON.stringify(file.waveform),
  loudness: file.loudness === null ? null : JSON.stringify(file.loudness),
  loudness_report: file.loudness_report === null ? null : JSON.stringify(file.loudness_report),
  own_presets: file.own_presets.length === 0 ? null : JSON.stringify(file.own_presets),
  expiry_warned_at: file.expiry_warned_at ?? null,
  trim: file.trim === null ? null : JSON.stringify(file.trim),
  input_details: file.input_details === null ? null : JSON.stringify(file.input_details),
  run_presets: file.run_presets === null ? null : JSON.stringify(file.run_presets),
});

function toColumns(patch: Partial<FileRecord>): Updateable<FilesTable> {
  const { has_cover, presets, waveform, loudness, loudness_report, own_presets, trim, run_presets, input_details, ...plain } = patch;
  const columns: Updateable<FilesTable> = { ...plain };
  if (has_cover !== undefined) columns.has_cover = has_cover ? 1 : 0;
  if (presets !== undefined) columns.presets = JSON.stringify(presets);
  if (waveform !== undefined) columns.waveform = waveform === null ? null : JSON.stringify(waveform);
  if (loudness !== undefined) columns.loudness = loudness === null ? null : JSON.stringify(loudness);
  if (loudness_report !== undefined) columns.loudness_report = loudness_report === null ? null : JSON.stringify(loudness_report);
  if (own_presets !== undefined) columns.own_presets = own_presets.length === 0 ? null : JSON.stringify(own_presets);
  if (trim !== undefined) columns.trim = trim === null ? null : JSON.stringify(trim);
  if (run_presets !== undefined) columns.run_presets = run_presets === null ? null : JSON.stringify(run_presets);
  if (input_details !== undefined) columns.input_details = input_details === null ? null : JSON.stringify(input_details);
  return columns;
}

export function filesRepo(db: Kysely<Database>): FilesRepo {
  return {
    async insert(file) {
      await db.insertInto('files').values(toRow(file)).execute();
    },
    async listForUser(userId) {
      const rows = await db.selectFrom('files').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map(toFile);
    },
    async pageForUser(userId, { status, before, after, limit }) {
      let query = db.selectFrom('files').selectAll().where('user_id', '=', userId);
      if (status) query = query.where('status', '=', status);
      // Newest first, then id ascending: "older" is a smaller time, or the same time and a larger id.
      if (before) {
        query = query.where((eb) => eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '>', before.id)])]));
      }
      if (after) {
        query = query.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]));
        // Read the newer rows nearest the position first, then put them back in page order.
        const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'desc').limit(limit).execute();
        return rows.reverse().map(toFile);
      }
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'asc').limit(limit).execute();
      return rows.map(toFile);
    },
    async findManyForUser(userId, ids) {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom('files').selectAll().where('user_id', '=', userId).where('id', 'in', [...ids]).execute();
      return rows.map(toFile);
    },
    async findForUser(userId, id) {
      const row = await db.selectFrom('files').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return row && toFile(row);
    },
    async findById(id) {
      const row = await db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toFile(row);
    },
    async update(id, patch, guard = {}) {
      let query = db.updateTable('files').set(toColumns(patch)).where('id', '=', id);
      if (guard.generation !== undefined) query = query.where('generation', '=', guard.generation);
      if (guard.statusIn) query = query.where('status', 'in', guard.statusIn);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async countActiveForUser(userId) {
      const row = await db
        .selectFrom('files')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('user_id', '=', userId)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async deleteForUser(userId, id) {
      const result = await db.deleteFrom('files').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
