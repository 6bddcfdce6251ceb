import path from 'node:path';

/** Plain-text columns for the list commands: padded to the widest cell, the last column free. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => Array.from(r[i] ?? '').length)));
  return all
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + (cell.length - Array.from(cell).length)))).join('  ').trimEnd())
    .join('\n')
    .concat('\n');
}

/** "running 45%" for a job under way; otherwise the status alone. */
export const statusText = (status: string, progress: number) => (status === 'running' ? `running ${Math.round(progress)}%` : status);

/** Relative to where the command ran when inside it: what the person typed is what they see. */
export function shortPath(p: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
