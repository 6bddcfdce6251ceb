import type { AuthedApi } from './api.ts';
import type { Display } from './display.ts';
import { shortPath } from './format.ts';
import { saveOutput } from './save-output.ts';
import type { FileResult } from './summary.ts';
import { waitForFiles } from './wait.ts';

export interface FollowOptions {
  api: AuthedApi;
  /** Those with a file id are followed; their entries are updated in place. */
  results: FileResult[];
  /** Where to save outputs as each file completes; undefined: just wait. */
  downloadDir?: string;
  display: Display;
  signal: AbortSignal;
}

/** Shows each job's progress until it ends, saving a completed file's outputs as soon as it does. */
export async function followJobs(opts: FollowOptions): Promise<void> {
  const { api, display } = opts;
  const byId = new Map(opts.results.flatMap((r) => (r.fileId ? [[r.fileId, r] as const] : [])));
  const lastPlain = new Map<string, string>();
  for (const r of byId.values()) display.progress(`job:${r.fileId}`, { label: r.path, detail: 'queued' });

  await waitForFiles(api, [...byId.keys()], {
    onUpdate(id, status, progress) {
      const r = byId.get(id);
      if (!r) return;
      r.status = status;
      display.progress(`job:${id}`, { label: r.path, ...(status === 'running' ? { fraction: progress / 100 } : {}), detail: status === 'running' ? 'transcoding' : status });
      // In a log: a line when the status changes, and at each quarter of a running job.
      const mark = status === 'running' ? ` ${Math.floor(progress / 25) * 25}%` : '';
      if (lastPlain.get(id) !== `${status}${mark}`) {
        lastPlain.set(id, `${status}${mark}`);
        display.plain(`${status.padEnd(9)} ${r.path}${mark}`);
      }
    },
    async onEnd(id, status, file, error) {
      const r = byId.get(id);
      if (!r) return;
      r.status = status;
      r.error = status === 'completed' ? null : (error ?? `the job ended ${status}`);
      r.outputs = (file?.outputs ?? []).map((o) => ({ preset: o.preset, url: api.url(o.url), size: o.size }));
      display.done(`job:${id}`, status === 'completed' ? `completed ${r.path}` : `${status.padEnd(9)} ${r.path}: ${r.error}`);
      if (status !== 'completed' || !file || opts.downloadDir === undefined) return;
      try {
        for (const [i, output] of file.outputs.entries()) {
          const saved = await saveOutput(api, file, output, opts.downloadDir);
          const entry = r.outputs[i];
          if (entry) entry.savedAs = saved;
          display.event(`saved     ${shortPath(saved)}`);
        }
      } catch (err) {
        r.error = err instanceof Error ? err.message : String(err);
        display.event(`error     ${r.path}: ${r.error}`);
      }
    },
  }, opts.signal);
}
