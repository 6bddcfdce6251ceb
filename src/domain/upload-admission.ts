/**
 * Admitting an upload before its first byte is stored. The checks and the reservation happen in
 * one transaction holding the user's row, so two uploads of one user are admitted one after the
 * other, each seeing the other's reservation: together they can never pass the storage quota.
 *
 *   admitUpload(deps, userId, {id, declaredBytes})  checks every limit, reserves the bytes
 *   settleUpload(tx, id)                            the upload became a file (same transaction)
 *   releaseUpload(deps, id)                         the upload was refused or abandoned
 */
import { AppError } from '../errors.ts';
import { formatBytes } from '../format.ts';
import type { Deps, Store } from './ports.ts';
import { dayStart, effectiveLimits, nextReset, type UserLimits } from './quotas.ts';

export interface Admission {
  /** The reservation's id: the upload's own id. */
  id: string;
  /** Bytes held against the storage quota until the upload settles or is released. */
  bytes: number;
  limits: UserLimits;
  /** The most bytes the file may bring; past it the upload is cut (a client that lied about its length). */
  streamCap: number;
}

/** How long a reservation holds if its process dies before settling or releasing it. */
export const MULTIPART_RESERVATION_MS = 6 * 3600_000;
export const RESUMABLE_RESERVATION_MS = 25 * 3600_000;
/** Waiting jobs free up as jobs finish: there is no fixed reset, so ask to try again shortly. */
const QUEUED_RETRY_SECONDS = 30;

export const uploadTooLarge = (limits: UserLimits, bytes?: number) =>
  new AppError('too_large', 413, `The file is larger than you may upload (${formatBytes(limits.maxUploadBytes)}). Nothing was kept.`, {
    limit: 'upload_size', quota: limits.maxUploadBytes, ...(bytes === undefined ? {} : { usage: bytes }),
  });

export const outOfStorage = (limits: UserLimits, usedBytes: number, requestedBytes: number) =>
  new AppError(
    'storage_quota_exceeded',
    507,
    `This upload (${formatBytes(requestedBytes)}) does not fit in your storage: ${formatBytes(usedBytes)} of ${formatBytes(limits.quotaBytes ?? 0)} used. Delete files to make room. Nothing was kept.`,
    { limit: 'storage', usage: usedBytes, quota: limits.quotaBytes, requested: requestedBytes, resetAt: null },
  );

function tooManyToday(limits: UserLimits, count: number, now: number): AppError {
  const reset = nextReset(now);
  return new AppError(
    'daily_upload_limit',
    429,
    `You have uploaded ${count} files today, the most you may per day. The count starts again at ${new Date(reset).toISOString()}.`,
    { limit: 'files_per_day', usage: count, quota: limits.filesPerDay, resetAt: new Date(reset).toISOString() },
    { 'retry-after': String(Math.ceil((reset - now) / 1000)) },
  );
}

const tooManyQueued = (limits: UserLimits, count: number) =>
  new AppError(
    'too_many_queued',
    429,
    `You have ${count} files waiting or transcoding, the most you may at once. Upload more when some have finished.`,
    { limit: 'queued_jobs', usage: count, quota: limits.queuedJobs, resetAt: null },
    { 'retry-after': String(QUEUED_RETRY_SECONDS) },
  );

/**
 * Checks the upload against the user's limits and reserves its bytes, or refuses it (413 upload
 * size, 429 files per day or waiting jobs, 507 storage) before anything is stored.
 * `declaredBytes` is the body's announced length; unknown, the reservation is what storage has
 * left (at most the upload size limit), and the body is cut there. `sizeAllowance` is framing
 * around the file in the body (multipart boundaries), tolerated by the upload size check only.
 */
export async function admitUpload(
  deps: Pick<Deps, 'store' | 'config' | 'now'>,
  userId: string,
  opts: { id: string; declaredBytes: number | undefined; sizeAllowance?: number; ttlMs: number },
): Promise<Admission> {
  return deps.store.transaction(async (tx) => {
    await tx.quotas.lockUser(userId);
    const limits = effectiveLimits(deps.config, await tx.quotas.overridesOf(userId));
    const declared = opts.declaredBytes;
    if (declared !== undefined && declared > limits.maxUploadBytes + (opts.sizeAllowance ?? 0)) throw uploadTooLarge(limits, declared);
    const now = deps.now();
    if (limits.filesPerDay !== null) {
      const today = await tx.quotas.uploadsSince(userId, dayStart(now));
      if (today >= limits.filesPerDay) throw tooManyToday(limits, today, now);
    }
    const open = await tx.quotas.openReservations(userId, now);
    if (limits.queuedJobs !== null) {
      const waiting = (await tx.files.countActiveForUser(userId)) + open.count;
      if (waiting >= limits.queuedJobs) throw tooManyQueued(limits, waiting);
    }
    let bytes = declared ?? limits.maxUploadBytes;
    if (limits.quotaBytes !== null) {
      const used = (await tx.quotas.storedBytes(userId)) + open.bytes;
      const room = limits.quotaBytes - used;
      if (declared === undefined) bytes = Math.min(bytes, Math.max(room, 0));
      if (bytes > room || room <= 0) throw outOfStorage(limits, used, declared ?? 1);
    }
    await tx.quotas.reserve({ id: opts.id, userId, bytes, createdAt: now, expiresAt: now + opts.ttlMs });
    return { id: opts.id, bytes, limits, streamCap: Math.min(bytes, limits.maxUploadBytes) };
  });
}

/** Inside the transaction that creates the file row: from now on the file's own size counts. */
export const settleUpload = (tx: Store, id: string) => tx.quotas.settle(id);

/** Gives a refused or abandoned upload's reservation back (a settled one stays). */
export async function releaseUpload(deps: Pick<Deps, 'store' | 'log'>, id: string): Promise<void> {
  await deps.store.quotas.release(id).catch((err: unknown) => deps.log.warn({ err, uploadId: id }, 'could not release an upload reservation'));
}
