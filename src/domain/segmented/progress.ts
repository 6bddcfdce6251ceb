import { emit } from '../events.ts';
import type { Deps, FileRecord } from '../ports.ts';
import { overallProgress, type SegmentedPlan } from './plan.ts';

/** How often one part saves its progress: parts are many, and each save is a row and an event. */
const REPORT_EVERY_MS = 1000;

/**
 * A part's progress callback: saves the part's figure, folds every part's into the file's one
 * figure (never lowering it), and aborts the part when the file no longer runs (cancel, delete).
 */
export function partProgress(deps: Deps, file: FileRecord, plan: SegmentedPlan, part: number, abort: AbortController): (percent: number) => void {
  // A normalized file spent the first fifth of its bar measuring, before it was split.
  const base = plan.loudness ? 20 : 0;
  let last = 0;
  return (percent) => {
    const now = Date.now();
    // Checked every second even while the figure stands still (a part decoding up to its start),
    // so a cancel reaches every part within about a second.
    if (now - last < REPORT_EVERY_MS) return;
    last = now;
    void save(Math.floor(percent)).catch((err: unknown) => deps.log.warn({ err, fileId: file.id }, 'could not save part progress'));
  };

  async function save(percent: number): Promise<void> {
    const { id, generation } = file;
    const current = await deps.store.files.findById(id);
    if (!current || current.generation !== generation || current.status !== 'running') return abort.abort();
    await deps.store.segmentRuns.setPartProgress(id, generation, part, percent);
    const parts = await deps.store.segmentRuns.partProgress(id, generation);
    const overall = Math.min(99, Math.floor(base + ((100 - base) * overallProgress(plan, parts)) / 100));
    if (overall <= current.progress) return;
    await deps.store.segmentRuns.raiseFileProgress(id, generation, overall);
    await emit(deps, file.user_id, 'file.updated', { id, status: 'running', progress: overall });
  }
}
