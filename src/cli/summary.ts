import { shortPath } from './format.ts';
import { TERMINAL_STATUSES } from './wait.ts';

/** What the summary says about one file, in the shape `--json` prints. */
export interface FileResult {
  path: string;
  fileId: string | null;
  /** refused, error, interrupted (never reached the server whole), or the file's status there. */
  status: string;
  error: string | null;
  outputs: { preset: string; url: string; size: number; savedAs?: string }[];
}

/**
 * Success means: the server took the file and, when we waited, its job completed (and its outputs
 * were saved, when asked). Anything else — refused, failed, canceled, deleted — fails the run.
 */
export function succeeded(r: FileResult, waited: boolean): boolean {
  if (r.error !== null || r.fileId === null) return false;
  return waited ? r.status === 'completed' : !TERMINAL_STATUSES.has(r.status) || r.status === 'completed';
}

export function summaryJson(results: readonly FileResult[], waited: boolean): string {
  const ok = results.every((r) => succeeded(r, waited));
  return `${JSON.stringify({ ok, files: results }, null, 2)}\n`;
}

/** One line per file (status, path, id, then outputs or the reason), then the tally. */
export function summaryText(results: readonly FileResult[], waited: boolean): string {
  const width = Math.max(...results.map((r) => r.status.length));
  const lines = results.map((r) => {
    const saved = r.outputs.flatMap((o) => (o.savedAs ? [shortPath(o.savedAs)] : []));
    const detail = r.error ?? (saved.length > 0 ? `saved ${saved.join(', ')}` : r.outputs.map((o) => o.preset).join(', '));
    return [r.status.padEnd(width), r.path, r.fileId ?? '-', detail].filter(Boolean).join('  ');
  });
  const good = results.filter((r) => succeeded(r, waited)).length;
  const bad = results.length - good;
  const verb = waited ? 'completed' : 'uploaded';
  lines.push(bad === 0 ? `${good} of ${results.length} files ${verb}` : `${good} of ${results.length} files ${verb}; ${bad} did not: ${results.filter((r) => !succeeded(r, waited)).map((r) => r.path).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
