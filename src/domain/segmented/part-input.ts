import type { SegmentInput } from '../../media/types.ts';
import type { Deps } from '../ports.ts';

/**
 * How long ffmpeg may take to open a segment's URL: it asks for the range once, as it starts
 * (signed just before), so the URL need outlive only that request.
 */
const URL_SECONDS = 10 * 60;

/**
 * A part's view of the stored input. Byte ranges come straight from blob storage (a ranged GET on
 * S3); the whole file is fetched to a local path (a download on S3) only if something asks for
 * it — a segment that cannot read a range, or the whole part — and once per part at most.
 */
export async function partInput(deps: Pick<Deps, 'blobs'>, key: string, scratch: string): Promise<{ source: SegmentInput; release(): Promise<void> }> {
  const stored = await deps.blobs.stat(key);
  if (!stored) throw new Error(`the input ${key} is missing from blob storage`);
  // On disk the object is a file already (opening it copies nothing): ffmpeg may read it in place.
  let local = deps.blobs.local ? deps.blobs.openLocal(key, scratch) : undefined;
  const localFile = local ? (await local).path : undefined;
  return {
    source: {
      size: stored.size,
      read: (range) => deps.blobs.get(key, range),
      localPath: async () => (await (local ??= deps.blobs.openLocal(key, scratch))).path,
      ...(localFile === undefined ? {} : { localFile }),
      ...(deps.blobs.readUrl ? { url: () => deps.blobs.readUrl!(key, URL_SECONDS) } : {}),
    },
    async release() {
      const opened = await local?.catch(() => undefined);
      await opened?.release();
    },
  };
}
