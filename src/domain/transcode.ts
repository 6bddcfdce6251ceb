import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { findPreset, type Preset } from '../media/presets.ts';
import { MediaError, type OutputInfo, type OutputPlan } from '../media/types.ts';
import { fileEvent, getFile } from './files.ts';
import { recordJobOutcome, toNotificationView } from './notifications.ts';
import type { Deps, FileRow, NotificationRow, TranscodeJob } from './ports.ts';
import { fileBlobPrefix } from './uploads.ts';

export type JobOutcome = 'completed' | 'failed' | 'canceled' | 'skipped';

const outputKey = (fileId: string, generation: number, preset: Preset) =>
  `${fileBlobPrefix(fileId)}/g${generation}/${preset.id}.${preset.extension}`;

/** Written once the row is gone or moved on: the job lost its claim to the file. */
class Superseded extends Error {}

/**
 * The transcode job: one ffmpeg run writes every chosen output into a private scratch folder;
 * outputs are then published and recorded, with the file's new status and its notification, in one
 * transaction. Re-running after a crash is safe: a finished generation is skipped, outputs are
 * overwritten whole, and the notification's dedupe key admits only one.
 */
export async function runTranscodeJob(
  deps: Deps,
  job: TranscodeJob,
  opts: { signal: AbortSignal },
): Promise<JobOutcome> {
  const file = await deps.store.files.findById(job.fileId);
  const guard = { generation: job.generation, statusIn: ['queued', 'running'] as const };
  if (!file || file.generation !== job.generation || !guard.statusIn.includes(file.status as 'queued')) {
    return 'skipped';
  }
  const started = await deps.store.files.update(file.id, { status: 'running', progress: 0, error: null, updated_at: deps.now() }, guard);
  if (!started) return 'skipped';
  await publishFile(deps, file);

  const scratchRoot = path.join(deps.config.dataDir, 'tmp');
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(path.join(scratchRoot, `job-${process.pid}-${file.id}-`));
  const abort = new AbortController();
  const forward = () => abort.abort();
  opts.signal.addEventListener('abort', forward, { once: true });
  const published: string[] = [];
  try {
    const presets = (JSON.parse(file.presets) as string[]).flatMap((id) => findPreset(id) ?? []);
    const plans: OutputPlan[] = presets.map((preset) => ({ preset, path: path.join(scratch, `${preset.id}.${preset.extension}`) }));
    const input = await deps.blobs.openLocal(file.input_key, scratch);
    try {
      await deps.media.transcode({
        inputPath: input.path,
        input: {
          format: file.input_format,
          codec: file.input_codec,
          durationMs: Number(file.duration_ms),
          sampleRate: file.input_sample_rate,
          channels: file.input_channels,
          bitRate: 0,
          hasCover: file.has_cover === 1,
        },
        outputs: plans,
        signal: abort.signal,
        onProgress: (percent) => reportProgress(deps, file, job, Math.min(percent, 99), abort),
      });
    } finally {
      await input.release();
    }
    const described: { plan: OutputPlan; info: OutputInfo; key: string; size: number }[] = [];
    for (const plan of plans) {
      const info = await deps.media.describeOutput(plan.path);
      const key = outputKey(file.id, job.generation, plan.preset);
      const size = await deps.blobs.putFile(key, plan.path);
      published.push(key);
      described.push({ plan, info, key, size });
    }
    const notification = await deps.store.transaction(async (tx) => {
      const now = deps.now();
      const ok = await tx.files.update(file.id, { status: 'completed', progress: 100, error: null, updated_at: now }, {
        generation: job.generation,
        statusIn: ['running'],
      });
      if (!ok) throw new Superseded();
      for (const d of described) {
        await tx.outputs.upsert({
          file_id: file.id,
          preset_id: d.plan.preset.id,
          blob_key: d.key,
          size: d.size,
          duration_ms: d.info.durationMs,
          bit_rate: d.info.bitRate,
          created_at: now,
        });
      }
      return recordJobOutcome(tx, deps, {
        userId: file.user_id,
        fileId: file.id,
        generation: job.generation,
        kind: 'completed',
        message: `Your file ${file.name} has been processed.`,
      });
    });
    await announce(deps, file, notification);
    return 'completed';
  } catch (err) {
    if (err instanceof Superseded || abort.signal.aborted) {
      await Promise.all(published.map((key) => deps.blobs.deletePrefix(key)));
      // Our own shutdown aborts too: then the job is handed back, not given up.
      if (opts.signal.aborted && !(err instanceof Superseded)) throw err;
      return 'canceled';
    }
    const reason = err instanceof MediaError ? err.message : 'an internal error occurred';
    if (!(err instanceof MediaError)) deps.log.error({ err, fileId: file.id }, 'transcode job crashed');
    return failJob(deps, file, job, reason);
  } finally {
    opts.signal.removeEventListener('abort', forward);
    await rm(scratch, { recursive: true, force: true });
  }
}

async function failJob(deps: Deps, file: FileRow, job: TranscodeJob, reason: string): Promise<JobOutcome> {
  const notification = await deps.store.transaction(async (tx) => {
    const ok = await tx.files.update(file.id, { status: 'failed', error: reason, updated_at: deps.now() }, {
      generation: job.generation,
      statusIn: ['running'],
    });
    if (!ok) return null;
    return recordJobOutcome(tx, deps, {
      userId: file.user_id,
      fileId: file.id,
      generation: job.generation,
      kind: 'failed',
      message: `Transcoding ${file.name} failed: ${reason}`,
    });
  });
  if (notification === null) return 'canceled';
  await announce(deps, file, notification);
  return 'failed';
}

/** Saves progress; a row that no longer says "running" means cancel or delete, so stop ffmpeg. */
function reportProgress(deps: Deps, file: FileRow, job: TranscodeJob, percent: number, abort: AbortController): void {
  deps.store.files
    .update(file.id, { progress: percent, updated_at: deps.now() }, { generation: job.generation, statusIn: ['running'] })
    .then((stillOurs) => {
      if (!stillOurs) return abort.abort();
      deps.push.publish(file.user_id, { type: 'file.updated', data: { id: file.id, status: 'running', progress: percent } });
    })
    .catch((err: unknown) => deps.log.warn({ err, fileId: file.id }, 'could not save progress'));
}

async function publishFile(deps: Deps, file: FileRow): Promise<void> {
  const view = await getFile(deps, file.user_id, file.id).catch(() => undefined);
  if (view) deps.push.publish(file.user_id, { type: 'file.updated', data: fileEvent(view) });
}

async function announce(deps: Deps, file: FileRow, notification: NotificationRow | undefined): Promise<void> {
  await publishFile(deps, file);
  if (notification) {
    deps.push.publish(file.user_id, { type: 'notification.created', data: toNotificationView(notification) });
  }
}
