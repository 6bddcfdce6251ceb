import { RETENTION_SWEEP_KEY } from '../jobs/definitions.ts';
import { formatDateTime } from '../format.ts';
import { pushEvents, recordEvent } from './events.ts';
import { afterFileDeleted } from './files.ts';
import { recordNotice } from './notifications.ts';
import type { Deps, FilePosition, RetentionCandidate } from './ports.ts';
import { effectiveDays, retentionStep, sweepCutoff } from './retention.ts';

/** How often the sweep runs: a file goes at most this long after its time. */
export const RETENTION_SWEEP_INTERVAL_MS = 15 * 60_000;

const PAGE = 200;

export interface SweepResult {
  /** Files whose owners were told now that they will go in a day. */
  notified: string[];
  deleted: string[];
  /** Due, but a job is queued or running for them: they go at a sweep after it ends. */
  postponed: string[];
}

type SweepDeps = Pick<Deps, 'store' | 'blobs' | 'push' | 'config' | 'now' | 'newId' | 'log'>;

const when = (ms: number) => `${formatDateTime(new Date(ms).toISOString())} UTC`;

/**
 * One pass over every file old enough to be due within a day, under each owner's retention:
 * notify the owner once a day before, delete once past due. `now` is the sweep's clock (tests
 * pass their own). Safe to run twice at once or on several workers: a notice is inserted under a
 * unique key, so only one sweep records it, and a file is deleted by one statement that also
 * checks no job is working on it.
 */
export async function runRetentionSweep(deps: SweepDeps, now: number): Promise<SweepResult> {
  const result: SweepResult = { notified: [], deleted: [], postponed: [] };
  const instance = deps.config.retentionDays;
  // Owners without a choice of their own share the instance's days; the others go one by one.
  const groups: { userId?: string; days: number }[] = instance === undefined ? [] : [{ days: instance }];
  for (const choice of await deps.store.retention.choices()) {
    const days = effectiveDays(choice.days, instance);
    if (days !== undefined) groups.push({ userId: choice.userId, days });
  }
  for (const group of groups) {
    let after: FilePosition | undefined;
    for (;;) {
      const page = await deps.store.retention.candidates({ before: sweepCutoff(group.days, now), userId: group.userId, after, limit: PAGE });
      for (const file of page) await sweepOne(deps, file, group.days, now, result);
      const last = page[page.length - 1];
      if (page.length < PAGE || !last) break;
      after = { createdAt: last.created_at, id: last.id };
    }
  }
  return result;
}

async function sweepOne(deps: SweepDeps, file: RetentionCandidate, days: number, now: number, result: SweepResult): Promise<void> {
  const step = retentionStep(file, days, now);
  if (step.action === 'notify') {
    const events = await deps.store.transaction(async (tx) => {
      const notice = await recordNotice(tx, { newId: deps.newId, now: () => now }, {
        userId: file.user_id,
        fileId: file.id,
        kind: 'expiring',
        dedupeKey: step.dedupeKey,
        message: `Your file ${file.name} will be deleted tomorrow (${when(step.deleteAt)}): files are kept ${days} days. Download what you want to keep.`,
      });
      // Another sweep got here first: its notice and its time stand.
      if (!notice) return [];
      await tx.retention.markWarned(file.id, now);
      // Open pages of a finished file show its new deletion time (a notice can move it). Files in
      // a job are left to the job's own events: followers take a status here for the job's end.
      const row = await tx.files.findById(file.id);
      if (!row || row.status === 'queued' || row.status === 'running') return [notice];
      const update = { id: row.id, status: row.status, progress: Math.round(row.progress), error: row.error, expiresAt: new Date(step.deleteAt).toISOString() };
      return [notice, await recordEvent(tx, { now: () => now }, row.user_id, 'file.updated', update)];
    });
    if (events.length > 0) {
      pushEvents(deps, events);
      result.notified.push(file.id);
    }
    return;
  }
  if (step.action !== 'delete') return;
  if (file.status === 'queued' || file.status === 'running' || !(await deps.store.retention.deleteIfIdle(file.id))) {
    // A job works on it (or started just now): deleting under it would waste its work. The row
    // stays due, so the first sweep after the job ends deletes it.
    result.postponed.push(file.id);
    return;
  }
  await afterFileDeleted(deps, file.user_id, file.id);
  result.deleted.push(file.id);
  deps.log.info({ fileId: file.id, userId: file.user_id, days }, 'retention deleted a file');
}

/**
 * The queued job: sweep now, then queue the next run. Errors are logged rather than thrown, so a
 * bad pass never stops the chain (the next run, in RETENTION_SWEEP_INTERVAL_MS, tries again); the
 * key keeps at most one run waiting however many workers start or users change their choice.
 */
export async function runScheduledSweep(deps: SweepDeps): Promise<SweepResult | undefined> {
  let result: SweepResult | undefined;
  try {
    result = await runRetentionSweep(deps, deps.now());
    if (result.notified.length + result.deleted.length + result.postponed.length > 0) {
      deps.log.info({ notified: result.notified.length, deleted: result.deleted.length, postponed: result.postponed.length }, 'retention sweep');
    }
  } catch (err) {
    deps.log.warn({ err }, 'retention sweep failed');
  }
  await scheduleRetentionSweep(deps, deps.now() + RETENTION_SWEEP_INTERVAL_MS);
  return result;
}

/** Queues a sweep at `runAt` (replacing the one waiting, if any). */
export async function scheduleRetentionSweep(deps: Pick<Deps, 'store'>, runAt?: number): Promise<void> {
  await deps.store.jobs.enqueue({ name: 'retention.sweep', payload: {} }, { key: RETENTION_SWEEP_KEY, ...(runAt === undefined ? {} : { runAt }) });
}
