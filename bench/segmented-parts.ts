/**
 * Where a segmented job's time goes, read back from the service's own info-level log lines
 * (pino JSON, one per line): the split's part layout, each part's "job started"/"job finished"
 * pair and the join's per-output times. Works for the embedded service and for scale-out workers.
 */
import { findPreset, outputSampleRate } from '../src/media/presets.ts';
import { isRecord, round, sleep } from './util.ts';

export interface PartCost {
  part: number;
  /** `join`: a preset's join run as a part of its own, where the plan has such parts. */
  kind: 'whole' | 'segment' | 'join';
  /** The segment's (or join's) preset, or the whole part's presets joined with "+". */
  presets: string;
  /** The segment's index within its preset; -1 for the whole part. */
  index: number;
  /** Where its encoder starts reading (pre-roll included): it decodes the input up to here first. */
  fromSeconds: number;
  /** Seconds of audio it encodes (pre- and post-roll included). */
  audioSeconds: number;
  wallMs: number;
  /** When it started, ms after the split was logged. */
  startedAfterSplitMs: number;
  worker: string;
}

export interface PartCosts {
  fileId: string;
  inputSeconds: number;
  /** The `transcode` job that probes, plans and enqueues the parts. */
  splitJobMs: number;
  /** The split's log line → the first part starting (queue pickup). */
  firstPickupMs: number;
  /** The last part's "job finished" → the join starting; ≤ 0 when the join, enqueued in that part's last transaction, starts before the part logs its end. */
  joinPickupMs: number;
  /** The join job, start to finish. */
  joinJobMs: number;
  /** Split → join finished: the job's wall time as the workers saw it. */
  splitToEndMs: number;
  parts: PartCost[];
  joins: { presetId: string; joined: boolean; ms: number }[];
}

/** Per lossy preset: wall ≈ perAudioMinute × audio minutes + perStartMinute × minutes decoded before the segment's start. */
export interface PresetFit {
  segments: number;
  perAudioMinuteS: number;
  perStartMinuteS: number;
}

/** The pino JSON objects of a log's text. */
export function logObjects(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const parsed: unknown = JSON.parse(line);
      return isRecord(parsed) ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
const payloadOf = (l: Record<string, unknown>) => (isRecord(l.payload) ? l.payload : {});

/** The costs of file `fileId`'s segmented run, from every log line of the processes that ran it. */
export function partCostsOf(lines: readonly Record<string, unknown>[], fileId: string, inputSeconds: number): PartCosts {
  const split = lines.find((l) => l.msg === 'transcode split into parts' && l.fileId === fileId);
  const layout = split && Array.isArray(split.layout) ? split.layout.filter(isRecord) : [];
  if (!split || layout.length === 0) throw new Error(`no part layout logged for ${fileId} (was the service at LOG_LEVEL=info, and the input over SEGMENT_MIN_SECONDS?)`);
  const splitAt = num(split.time);
  const finishedAt = new Map<string, number>();
  for (const l of lines) if (l.msg === 'job finished') finishedAt.set(`${String(l.workerId)}:${String(l.jobId)}`, num(l.time));
  // The last attempt of each job counts (a part handed back runs again).
  const runs = (job: string) => {
    const byKey = new Map<string, { payload: Record<string, unknown>; startedAt: number; endedAt: number; worker: string }>();
    for (const l of lines) {
      const payload = payloadOf(l);
      if (l.msg !== 'job started' || l.job !== job || payload.fileId !== fileId) continue;
      const endedAt = finishedAt.get(`${String(l.workerId)}:${String(l.jobId)}`);
      if (endedAt === undefined) continue;
      byKey.set(job === 'segment' ? String(payload.part) : job, { payload, startedAt: num(l.time), endedAt, worker: String(l.workerId) });
    }
    return [...byKey.values()];
  };
  const workers = new Map<string, string>();
  const workerName = (id: string) => workers.get(id) ?? (workers.set(id, `w${workers.size + 1}`).get(id) as string);
  const parts: PartCost[] = runs('segment').map((r) => {
    const part = num(r.payload.part);
    const spec = layout[part] ?? {};
    // Embedded: one pool per process, so every part shows the same worker.
    const started = { wallMs: r.endedAt - r.startedAt, startedAfterSplitMs: r.startedAt - splitAt, worker: workerName(r.worker) };
    if (spec.kind === 'join') return { part, kind: 'join', presets: String(spec.presetId), index: -1, fromSeconds: 0, audioSeconds: inputSeconds, ...started };
    if (spec.kind !== 'segment') {
      const ids = Array.isArray(spec.presetIds) ? spec.presetIds.map(String) : [];
      return { part, kind: 'whole', presets: ['peaks', ...ids].join('+'), index: -1, fromSeconds: 0, audioSeconds: inputSeconds, ...started };
    }
    const presetId = String(spec.presetId);
    const preset = findPreset(presetId);
    const rate = preset ? outputSampleRate(preset, 44_100) : 44_100;
    const from = num(spec.encodeFrom) / rate;
    const to = spec.encodeTo === null ? inputSeconds : num(spec.encodeTo) / rate;
    return { part, kind: 'segment', presets: presetId, index: num(spec.index), fromSeconds: round(from, 1), audioSeconds: round(to - from, 1), ...started };
  });
  parts.sort((a, b) => a.startedAfterSplitMs - b.startedAfterSplitMs);
  const [join] = runs('segment.join');
  const [transcode] = runs('transcode');
  const lastPartEnd = Math.max(...parts.map((p) => splitAt + p.startedAfterSplitMs + p.wallMs));
  const joins = lines
    .filter((l) => l.msg === 'segmented output published' && l.fileId === fileId)
    .map((l) => ({ presetId: String(l.presetId), joined: l.joined === true, ms: num(l.ms) }));
  return {
    fileId,
    inputSeconds,
    splitJobMs: transcode ? transcode.endedAt - transcode.startedAt : Number.NaN,
    firstPickupMs: Math.min(...parts.map((p) => p.startedAfterSplitMs)),
    joinPickupMs: join ? join.startedAt - lastPartEnd : Number.NaN,
    joinJobMs: join ? join.endedAt - join.startedAt : Number.NaN,
    splitToEndMs: join ? join.endedAt - splitAt : Number.NaN,
    parts,
    joins,
  };
}

/**
 * The costs once the join has logged its end: the completion event goes out when the file is
 * completed, before the join removes the scratch (seconds in S3) and logs "job finished".
 */
export async function settledPartCosts(lines: () => Promise<Record<string, unknown>[]>, fileId: string, inputSeconds: number, timeoutMs = 120_000): Promise<PartCosts> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const costs = partCostsOf(await lines(), fileId, inputSeconds);
    if (!Number.isNaN(costs.joinJobMs) || Date.now() > deadline) return costs;
    await sleep(500);
  }
}

/** Least squares through the origin of wall = a·audio + b·from (minutes), per segmented preset. */
export function presetFits(costs: PartCosts): Record<string, PresetFit> {
  const fits: Record<string, PresetFit> = {};
  for (const presetId of new Set(costs.parts.filter((p) => p.kind === 'segment').map((p) => p.presets))) {
    const rows = costs.parts.filter((p) => p.presets === presetId).map((p) => ({ x1: p.audioSeconds / 60, x2: p.fromSeconds / 60, y: p.wallMs / 1000 }));
    const s = (f: (r: (typeof rows)[number]) => number) => rows.reduce((sum, r) => sum + f(r), 0);
    const [s11, s12, s22, s1y, s2y] = [s((r) => r.x1 * r.x1), s((r) => r.x1 * r.x2), s((r) => r.x2 * r.x2), s((r) => r.x1 * r.y), s((r) => r.x2 * r.y)];
    const det = s11 * s22 - s12 * s12;
    const a = det > 0 ? (s1y * s22 - s2y * s12) / det : s1y / s11;
    const b = det > 0 ? (s2y * s11 - s1y * s12) / det : 0;
    fits[presetId] = { segments: rows.length, perAudioMinuteS: round(a, 3), perStartMinuteS: round(b, 4) };
  }
  return fits;
}

export function reportParts(costs: PartCosts, log: (line: string) => void): void {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  log(`  per-part costs of ${costs.fileId} (${Math.round(costs.inputSeconds / 60)} min input): split job ${s(costs.splitJobMs)} s, split → first part ${Math.round(costs.firstPickupMs)} ms, last part → join ${Math.round(costs.joinPickupMs)} ms, join ${s(costs.joinJobMs)} s, split → done ${s(costs.splitToEndMs)} s`);
  log('    part  preset                   #  from s  audio s  wall s  s/audio-min  starts at +s  worker');
  for (const p of costs.parts) {
    const perMin = p.wallMs / 1000 / (p.audioSeconds / 60);
    log(`    ${String(p.part).padStart(4)}  ${p.presets.padEnd(22)} ${(p.index < 0 ? '-' : String(p.index)).padStart(2)}  ${p.fromSeconds.toFixed(0).padStart(6)}  ${p.audioSeconds.toFixed(0).padStart(7)}  ${s(p.wallMs).padStart(6)}  ${perMin.toFixed(3).padStart(11)}  ${s(p.startedAfterSplitMs).padStart(12)}  ${p.worker}`);
  }
  log(`    join per output: ${costs.joins.map((j) => `${j.presetId} ${s(j.ms)} s${j.joined ? '' : ' (copy)'}`).join(', ')}`);
  const fits = presetFits(costs);
  log(`    fit per preset (wall s = a × audio min + b × min decoded before the start): ${Object.entries(fits).map(([id, f]) => `${id} a=${f.perAudioMinuteS} b=${f.perStartMinuteS}`).join('; ')}`);
}
