/**
 * The admin area's view of the work: jobs queued and running across every user (per user and
 * per worker), the workers' heartbeats, recent failures, and the instance-wide pause. Jobs are
 * named by their file's id, the same in both queue backends. See decision 0022.
 */
import { notFound } from '../errors.ts';
import type { Actor } from './admin-users.ts';
import { cancelFile, type FileView } from './files.ts';
import type { AdminFileRow, Deps, QueueAdmin } from './ports.ts';
import { pausedValue, pauseState, QUEUE_PAUSED, type PauseState } from './queue-control.ts';

/** The admin lists are bounded: an operator reads the oldest work first, not a whole table. */
export const ADMIN_LIST_LIMIT = 500;
/** Workers not heard from in this long are shown as silent (the sweeper's threshold, queue/liveness.ts). */
export const SILENT_AFTER_MS = 10_000;
/** Workers not heard from in this long are no longer listed. */
const FORGOTTEN_AFTER_MS = 3_600_000;

export interface AdminJobView {
  /** The file's id: what POST /admin/jobs/:id/cancel takes. */
  id: string;
  name: string;
  status: 'queued' | 'running';
  progress: number;
  presets: string[];
  user: { id: string; username: string };
  /** The worker pool running it; null while queued (or between heartbeats of a just-claimed job). */
  worker: string | null;
  createdAt: string;
}

export interface AdminJobsView {
  queue: PauseState;
  jobs: AdminJobView[];
  perUser: { userId: string; username: string; queued: number; running: number }[];
  perWorker: { worker: string; running: number }[];
}

export interface AdminWorkerView {
  id: string;
  host: string;
  pid: number;
  version: string;
  lastSeen: string;
  ageSeconds: number;
  /** Heard from within 30 s. */
  alive: boolean;
  /** What it runs now: file ids (or job keys of other kinds of job). */
  jobs: { key: string; fileId: string | null; name: string | null; username: string | null }[];
}

export interface AdminFailureView {
  id: string;
  name: string;
  user: { id: string; username: string };
  error: string;
  presets: string[];
  failedAt: string;
}

const fileIdOfKey = (key: string) => /^transcode:(.+):g\d+$/.exec(key)?.[1] ?? null;

function jobsByFile(holders: Map<string, string>): Map<string, string> {
  const byFile = new Map<string, string>();
  for (const [key, worker] of holders) {
    const fileId = fileIdOfKey(key);
    if (fileId) byFile.set(fileId, worker);
  }
  return byFile;
}

function jobView(row: AdminFileRow, worker: string | undefined): AdminJobView {
  const { file } = row;
  return {
    id: file.id,
    name: file.name,
    status: file.status === 'running' ? 'running' : 'queued',
    progress: Math.round(file.progress),
    presets: [...file.presets],
    user: { id: file.user_id, username: row.username },
    worker: worker ?? null,
    createdAt: new Date(file.created_at).toISOString(),
  };
}

export async function listJobs(deps: Pick<Deps, 'store'>, queue: QueueAdmin): Promise<AdminJobsView> {
  const [rows, holders, state] = await Promise.all([deps.store.adminViews.activeFiles(ADMIN_LIST_LIMIT), queue.holders(), pauseState(deps)]);
  const byFile = jobsByFile(holders);
  const jobs = rows.map((r) => jobView(r, byFile.get(r.file.id)));
  const perUser = new Map<string, AdminJobsView['perUser'][number]>();
  const perWorker = new Map<string, number>();
  for (const j of jobs) {
    const u = perUser.get(j.user.id) ?? { userId: j.user.id, username: j.user.username, queued: 0, running: 0 };
    u[j.status]++;
    perUser.set(j.user.id, u);
    if (j.worker) perWorker.set(j.worker, (perWorker.get(j.worker) ?? 0) + 1);
  }
  return { queue: state, jobs, perUser: [...perUser.values()], perWorker: [...perWorker].map(([worker, running]) => ({ worker, running })) };
}

/** Cancels anyone's queued or running job, as its owner could. */
export async function cancelAnyJob(deps: Deps, actor: Actor, fileId: string): Promise<FileView> {
  const file = await deps.store.files.findById(fileId);
  if (!file) throw notFound('job');
  const view = await cancelFile(deps, file.user_id, fileId);
  deps.log.info({ admin: actor.username, action: 'job.cancel', fileId, userId: file.user_id }, 'admin action');
  return view;
}

export async function pauseQueue(deps: Pick<Deps, 'store' | 'log' | 'now'>, actor: Actor): Promise<PauseState> {
  if (!(await pauseState(deps)).paused) await deps.store.instance.put(QUEUE_PAUSED, pausedValue(actor.username, deps.now()), deps.now());
  deps.log.info({ admin: actor.username, action: 'queue.pause' }, 'admin action');
  return pauseState(deps);
}

export async function resumeQueue(deps: Pick<Deps, 'store' | 'log'>, queue: QueueAdmin, actor: Actor): Promise<PauseState> {
  await deps.store.instance.remove(QUEUE_PAUSED);
  await queue.wake();
  deps.log.info({ admin: actor.username, action: 'queue.resume' }, 'admin action');
  return pauseState(deps);
}

export async function listWorkers(deps: Pick<Deps, 'store' | 'now'>, queue: QueueAdmin): Promise<AdminWorkerView[]> {
  const now = deps.now();
  const [beats, holders, active] = await Promise.all([deps.store.adminViews.workers(now - FORGOTTEN_AFTER_MS), queue.holders(), deps.store.adminViews.activeFiles(ADMIN_LIST_LIMIT)]);
  const files = new Map(active.map((r) => [r.file.id, r]));
  return beats.map((b) => ({
    id: b.id,
    host: b.host,
    pid: b.pid,
    version: b.version,
    lastSeen: new Date(b.lastSeen).toISOString(),
    ageSeconds: Math.max(0, Math.round((now - b.lastSeen) / 1000)),
    alive: now - b.lastSeen < SILENT_AFTER_MS,
    jobs: [...holders].flatMap(([key, worker]) => {
      if (worker !== b.id) return [];
      const fileId = fileIdOfKey(key);
      const row = fileId ? files.get(fileId) : undefined;
      return [{ key, fileId, name: row?.file.name ?? null, username: row?.username ?? null }];
    }),
  }));
}

export async function listFailures(deps: Pick<Deps, 'store'>, limit = 50): Promise<AdminFailureView[]> {
  return (await deps.store.adminViews.recentFailures(limit)).map(({ file, username }) => ({
    id: file.id,
    name: file.name,
    user: { id: file.user_id, username },
    error: file.error ?? 'no reason was recorded',
    presets: [...file.presets],
    failedAt: new Date(file.updated_at).toISOString(),
  }));
}
