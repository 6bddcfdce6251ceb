import path from 'node:path';
import type { Segment } from '../../media/segments/plan.ts';
import { MediaError } from '../../media/types.ts';
import { partScratchPrefix } from '../blob-keys.ts';
import type { Deps, FileRecord } from '../ports.ts';
import { filePreset } from '../preset-catalog.ts';
import type { SegmentedPlan } from './plan.ts';

/** The parts that hold a preset's segments, in segment order. */
export function presetSegments(plan: SegmentedPlan, presetId: string): { part: number; segment: Segment }[] {
  return plan.parts
    .flatMap((p, part) => (p.kind === 'segment' && p.presetId === presetId ? [{ part, segment: p.segment }] : []))
    .sort((a, b) => a.segment.index - b.segment.index);
}

/**
 * Joins one preset's segments at packet level (decision 0012) into a local file under `scratch`;
 * the caller publishes it. Segments are fetched from blob storage (a download with S3) into the
 * same scratch folder, so removing the folder removes them too.
 */
export async function joinPresetSegments(
  deps: Pick<Deps, 'blobs' | 'media'>,
  r: { file: Pick<FileRecord, 'id' | 'generation' | 'own_presets'>; plan: SegmentedPlan; presetId: string; scratch: string },
): Promise<{ name: string; path: string }> {
  const preset = filePreset(r.file, r.presetId);
  if (!preset) throw new MediaError('failed', `The output format ${r.presetId} is no longer known.`);
  const name = `${preset.id}.${preset.extension}`;
  const pieces = presetSegments(r.plan, r.presetId);
  const releases: (() => Promise<void>)[] = [];
  try {
    const paths = await Promise.all(
      pieces.map(async (s) => {
        const local = await deps.blobs.openLocal(`${partScratchPrefix(r.file.id, r.file.generation, s.part)}/${name}`, r.scratch);
        releases.push(local.release);
        return local.path;
      }),
    );
    const outPath = path.join(r.scratch, name);
    await deps.media.joinSegments({ preset, segments: pieces.map((s) => s.segment), paths, outPath });
    return { name, path: outPath };
  } finally {
    for (const release of releases) await release().catch(() => undefined);
  }
}

/** A join part: the preset's joined output, by its name under the part's scratch prefix. */
export async function joinPresetPart(deps: Deps, r: { file: FileRecord; plan: SegmentedPlan; presetId: string; scratch: string }): Promise<Map<string, string>> {
  const startedAt = performance.now();
  const joined = await joinPresetSegments(deps, r);
  // Where a join's time goes, for the segmented bench.
  deps.log.info({ fileId: r.file.id, presetId: r.presetId, ms: Math.round(performance.now() - startedAt) }, 'segments joined');
  return new Map([[joined.name, joined.path]]);
}
