import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkInputLimits } from '../media/limits.ts';
import type { Preset } from '../media/presets.ts';
import { filePreset } from './preset-catalog.ts';
import { MediaError, type LoudnessAnalysis, type OutputPlan, type ProbeResult, type TranscodeResult } from '../media/types.ts';
import { emit } from './events.ts';
import type { Deps, FileRecord, TranscodeJob } from './ports.ts';
import { fileBlobPrefix } from './blob-keys.ts';
import { detailsOf, isProbed } from './uploads.ts';
import { completeFile, failJob, reportOf, Superseded } from './transcode-finish.ts';
import { shouldSegment } from './segmented/plan.ts';
import { startSegmented } from './segmented/start.ts';
import { limitsOf, mediaLimitsOf } from './quotas.ts';
import { trimBeyond, trimmedDurationMs } from './trim.ts';

/** 'split': the job handed its work to segment jobs (issue 12); the join ends it. */
export type JobOutcome = 'completed' | 'failed' | 'canceled' | 'skipped' | 'split';

export const outputKey = (fileId: string, generation: number, preset: Preset) =>
  `${fileBlobPrefix(fileId)}/g${generation}/${preset.id}.${preset.extension}`;

/** A private scratch folder for one job of this file; the name lets a restart find its orphans. */
export async function jobScratch(deps: Pick<Deps, 'config'>, fileId: string, tag = ''): Promise<string> {
  const scratchRoot = path.join(deps.config.dataDir, 'tmp');
  await mkdir(scratchRoot, { recursive: true });
  return mkdtemp(path.join(scratchRoot, `job-${process.pid}-${fileId}-${tag}`));
}

/**
 * The transcode job: one ffmpeg run writes every chosen output into a private scratch folder;
 * outputs are then published and recorded, with the file's new status and its notification, in one
 * transaction. Re-running after a crash is safe: a finished generation is skipped, outputs are
 * overwritten whole, and the notification's dedupe key admits only one. An input longer than
 * SEGMENT_MIN_SECONDS is instead planned into parts that run as jobs of their own (segmented/).
 */
export async function runTranscodeJob(
  deps: Deps,
  job: TranscodeJob,
  opts: { signal: AbortSignal },
): Promise<JobOutcome> {
  const phases = new PhaseClock();
  const file = await deps.store.files.findById(job.fileId);
  const guard = { generation: job.generation, statusIn: ['queued', 'running'] as const };
  if (!file || file.generation !== job.generation || !guard.statusIn.includes(file.status as 'queued')) {
    return 'skipped';
  }
  // Already split by an earlier run of this job: its parts carry on.
  if (await deps.store.segmentRuns.find(file.id, job.generation)) return 'skipped';
  const started = await deps.store.files.update(file.id, { status: 'running', progress: 0, error: null, updated_at: deps.now() }, guard);
  if (!started) return 'skipped';
  await emit(deps, file.user_id, 'file.updated', { id: file.id, status: 'running', progress: 0 });

  const scratch = await jobScratch(deps, file.id);
  const abort = new AbortController();
  const forward = () => abort.abort();
  opts.signal.addEventListener('abort', forward, { once: true });
  const published: string[] = [];
  try {
    // A later run of some outputs (run_presets) makes only those; the others stay as they are.
    const presets = (file.run_presets ?? file.presets).flatMap((id) => filePreset(file, id) ?? []);
    const plans: OutputPlan[] = presets.map((preset) => ({ preset, path: path.join(scratch, `${preset.id}.${preset.extension}`) }));
    let written: TranscodeResult = { durationMs: 0 };
    let analysis: LoudnessAnalysis | undefined;
    phases.lap('start');
    // Fetched (a download with remote storage) only when something reads it: a file probed at
    // upload, with its details kept, is split into parts without this job ever fetching it.
    let opened: ReturnType<typeof deps.blobs.openLocal> | undefined;
    const inputPath = async () => (await (opened ??= deps.blobs.openLocal(file.input_key, scratch))).path;
    try {
      const probe = isProbed(file) ? probeOf(file) : await probeInJob(deps, file, job, await inputPath());
      phases.lap('probe');
      // Probed at upload or just now: either way the limits hold before ffmpeg starts (and the
      // media layer holds them again while it runs, since a container's duration can lie).
      // The owner's own caps: an administrator may have raised or lowered them (domain/quotas.ts).
      const limits = mediaLimitsOf(await limitsOf(deps, file.user_id));
      checkInputLimits(probe, presets, limits);
      const beyond = trimBeyond(file.trim, probe.durationMs);
      if (beyond) throw new MediaError('failed', beyond);
      // Media sees the trimmed length, so progress runs to 100 over the part that is made.
      const source = { ...probe, durationMs: trimmedDurationMs(file.trim, probe.durationMs) };
      const trim = file.trim ? { trim: file.trim } : {};
      const option = file.loudness;
      // Long enough counts what is made: the trimmed length. A later run splits only its own presets.
      const segmented = shouldSegment(source.durationMs, deps.config.segmentMinSeconds, presets);
      // Normalizing measures first (a fifth of the progress bar), here on the job's own copy of
      // the input, so it is the same with local or remote storage.
      const share = option ? MEASURE_SHARE : 0;
      if (option) {
        analysis = await deps.media.analyzeLoudness({
          inputPath: await inputPath(),
          input: source,
          ...trim,
          target: option.target,
          lossy: presets.some((p) => !p.lossless),
          signal: abort.signal,
          limits,
          onProgress: (percent) => reportProgress(deps, file, job, Math.floor(percent * share), abort),
        });
      }
      if (segmented && analysis?.plan.method === 'limiter') {
        // A limiter's gain at any moment depends on what came before: split, it would differ at
        // every seam. This file is encoded in one pass.
        deps.log.info({ fileId: file.id }, 'segmenting skipped: the true-peak limiter cannot be split; one pass');
      } else if (segmented) {
        const full = probe.bits === undefined ? { ...probe, ...(await deps.media.probe(await inputPath())) } : probe;
        // Parts see the trimmed length, as one pass's media does, and cut the input themselves.
        const planned = await startSegmented(deps, file, job, { probe: { ...full, durationMs: source.durationMs }, presets, analysis, progress: Math.floor(100 * share), ...trim });
        if (!planned) throw new Superseded();
        return 'split';
      }
      const localInput = await inputPath();
      phases.lap('fetch');
      written = await deps.media.transcode({
        inputPath: localInput,
        input: source,
        ...trim,
        outputs: plans,
        peaksPath: path.join(scratch, 'peaks.u8'),
        signal: abort.signal,
        limits,
        onProgress: (percent) => reportProgress(deps, file, job, Math.min(Math.floor(100 * share + percent * (1 - share)), 99), abort),
        ...(analysis ? { loudness: analysis.plan } : {}),
      });
      phases.lap('encode');
    } finally {
      await (await opened?.catch(() => undefined))?.release();
    }
    // Outputs are published side by side; each becomes visible only when whole.
    // Every put settles before a failure is acted on: otherwise one still in flight could publish
    // after the cleanup below has run, and its bytes would stay with nothing pointing at them.
    const settled = await Promise.allSettled(
      plans.map(async (plan) => {
        const key = outputKey(file.id, job.generation, plan.preset);
        published.push(key);
        return { presetId: plan.preset.id, key, size: await deps.blobs.putFile(key, plan.path) };
      }),
    );
    const outputs = settled.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    phases.lap('publish');
    const waveform = await deps.media.waveform(path.join(scratch, 'peaks.u8'));
    const loudnessReport = analysis ? reportOf(analysis, written.loudnessAfter) : null;
    await completeFile(deps, file, job, { outputs, durationMs: written.durationMs, waveform, loudnessReport });
    phases.lap('finish');
    // Where a one-pass job's time goes besides ffmpeg (issue 12's fixed cost; bench/job-cost.ts reads it).
    deps.log.info({ fileId: file.id, ms: phases.laps, cpuMs: phases.cpu }, 'transcode phases');
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
    const outcome = await failJob(deps, file, job, reason);
    // The file was deleted while this job failed (a put can fail because its folder was just
    // removed): what the job published after the deletion freed the file's bytes is ours to free.
    if (outcome === 'canceled' && !(await deps.store.files.findById(file.id))) await deps.blobs.deletePrefix(fileBlobPrefix(file.id));
    return outcome;
  } finally {
    opts.signal.removeEventListener('abort', forward);
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Wall time, and this process's own CPU time (ffmpeg's is not in it), between the marks of a job,
 * by the name of the phase each lap ends. With one slot the CPU is the job's; with more it
 * includes whatever the other slots did meanwhile.
 */
class PhaseClock {
  readonly laps: Record<string, number> = {};
  readonly cpu: Record<string, number> = {};
  private last = performance.now();
  private lastCpu = process.cpuUsage();

  lap(name: string): void {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    this.laps[name] = Math.round(now - this.last);
    this.cpu[name] = Math.round((cpu.user + cpu.system) / 1000);
    this.last = now;
    this.lastCpu = process.cpuUsage();
  }
}

/** The part of a normalizing job's progress bar that its measuring pass fills. */
const MEASURE_SHARE = 0.2;

function probeOf(file: FileRecord): ProbeResult {
  return {
    format: file.input_format,
    codec: file.input_codec,
    durationMs: Number(file.duration_ms),
    sampleRate: file.input_sample_rate,
    channels: file.input_channels,
    bitRate: 0,
    hasCover: file.has_cover,
    // Kept since 0018: then no job needs to probe again for the depth or the cover.
    ...(file.input_details ? { bits: file.input_details.bits, ...(file.input_details.cover ? { cover: file.input_details.cover } : {}) } : {}),
  };
}

/** With remote storage the web process could not probe; the job does, and a bad file fails here. */
async function probeInJob(deps: Deps, file: FileRecord, job: TranscodeJob, inputPath: string): Promise<ProbeResult> {
  const probe = await deps.media.probe(inputPath);
  await deps.store.files.update(
    file.id,
    {
      input_format: probe.format,
      input_codec: probe.codec,
      duration_ms: probe.durationMs,
      input_sample_rate: probe.sampleRate,
      input_channels: probe.channels,
      has_cover: probe.hasCover,
      input_details: detailsOf(probe),
    },
    { generation: job.generation, statusIn: ['running'] },
  );
  return probe;
}

/** Saves progress; a row that no longer says "running" means cancel or delete, so stop ffmpeg. */
function reportProgress(deps: Deps, file: FileRecord, job: TranscodeJob, percent: number, abort: AbortController): void {
  deps.store.files
    .update(file.id, { progress: percent, updated_at: deps.now() }, { generation: job.generation, statusIn: ['running'] })
    .then((stillOurs) => {
      if (!stillOurs) return abort.abort();
      return emit(deps, file.user_id, 'file.updated', { id: file.id, status: 'running', progress: percent });
    })
    .catch((err: unknown) => deps.log.warn({ err, fileId: file.id }, 'could not save progress'));
}
