import { parseArgs } from 'node:util';
import { formatBytes, formatClock } from '../format.ts';
import type { Deps } from '../domain/ports.ts';
import { clearOverrides, setOverrides, usageOf, type QuotaOverrides, type Usage } from '../domain/quotas.ts';

/**
 * `reprise user quota <username> [--bytes N|default] … [--clear]`: an operator sets or clears a
 * user's limits on the server's own database (no HTTP). Without options it shows them.
 */
export const userQuotaHelp = `usage: reprise user quota <username> [options]
  --bytes N              storage quota (sources + outputs)
  --queued-jobs N        files waiting or transcoding at once
  --files-per-day N      uploads per UTC day
  --max-upload-bytes N   largest upload
  --max-input-seconds N  longest input
  --max-output-bytes N   most bytes one file's outputs may take
  --clear                every limit back to the settings' defaults (before any option given with it)
Sizes take K, M, G or T (1024-based): --bytes 20G. "default" returns one limit to its setting.
Without options: show the user's limits and usage.
`;

const flags: Record<string, keyof QuotaOverrides> = {
  bytes: 'quotaBytes',
  'queued-jobs': 'queuedJobs',
  'files-per-day': 'filesPerDay',
  'max-upload-bytes': 'maxUploadBytes',
  'max-input-seconds': 'maxInputSeconds',
  'max-output-bytes': 'maxOutputBytes',
};
const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "20G" → bytes, "default" → null; anything else is a usage mistake naming the option. */
export function parseLimit(flag: string, raw: string): number | null {
  if (raw === 'default') return null;
  const match = /^(\d+)([kmgt]?)i?b?$/i.exec(raw.trim());
  const value = match ? Number(match[1]) * (units[match[2]?.toLowerCase() ?? ''] ?? 1) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${flag} takes a whole number of at least 1 (sizes may end in K, M, G or T), or "default"`);
  return value;
}

const show = (n: number | null, as: (v: number) => string) => (n === null ? 'unlimited' : as(n));

export function describeUsage(username: string, u: Usage): string {
  const mark = (key: keyof QuotaOverrides) => (u.overrides[key] === null ? '' : ' (set for this user)');
  const l = u.limits;
  return [
    `${username}:`,
    `  storage          ${formatBytes(u.storage.usedBytes)} used${u.storage.reservedBytes ? ` + ${formatBytes(u.storage.reservedBytes)} reserved` : ''} of ${show(l.quotaBytes, formatBytes)}${mark('quotaBytes')}`,
    `  files today      ${u.filesToday.count} of ${show(l.filesPerDay, String)}${mark('filesPerDay')}`,
    `  waiting          ${u.queuedJobs.count} of ${show(l.queuedJobs, String)}${mark('queuedJobs')}`,
    `  largest upload   ${formatBytes(l.maxUploadBytes)}${mark('maxUploadBytes')}`,
    `  longest input    ${formatClock(l.maxInputSeconds)}${mark('maxInputSeconds')}`,
    `  outputs per file ${formatBytes(l.maxOutputBytes)}${mark('maxOutputBytes')}`,
    '',
  ].join('\n');
}

/** Runs the command; returns the exit status. `deps` is opened by the caller only when needed. */
export async function userQuotaCommand(argv: string[], withDeps: <T>(fn: (deps: Deps) => Promise<T>) => Promise<T>): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { clear: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])) },
    });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${userQuotaHelp}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const username = positionals[0];
  if (values.help) {
    process.stdout.write(userQuotaHelp);
    return 0;
  }
  if (!username || positionals.length > 1) {
    process.stderr.write(userQuotaHelp);
    return 2;
  }
  const patch: Partial<Record<keyof QuotaOverrides, number | null>> = {};
  try {
    for (const [flag, key] of Object.entries(flags)) {
      const raw = (values as Record<string, string | boolean | undefined>)[flag];
      if (typeof raw === 'string') patch[key] = parseLimit(flag, raw);
    }
  } catch (err) {
    process.stderr.write(`reprise: ${(err as Error).message}\n`);
    return 2;
  }
  return withDeps(async (deps) => {
    const user = await deps.store.users.findByUsername(username.trim().toLowerCase());
    if (!user) {
      process.stderr.write(`reprise: no user named ${username}\n`);
      return 1;
    }
    if (values.clear) await clearOverrides(deps, user.id);
    if (Object.keys(patch).length > 0) await setOverrides(deps, user.id, patch);
    process.stdout.write(describeUsage(user.username, await usageOf(deps, user.id)));
    return 0;
  });
}
