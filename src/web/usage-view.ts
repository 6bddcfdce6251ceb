import { usageOf, type Usage } from '../domain/quotas.ts';
import type { Deps } from '../domain/ports.ts';
import { formatBytes } from '../format.ts';

/** At this share of a limit the bar turns to a warning, so a refusal never comes as a surprise. */
export const WARN_AT = 0.9;

export interface UsageBar {
  label: string;
  /** "1.2 GB of 2.0 GB", or "12 (no limit)". */
  text: string;
  /** 0..100, or null without a limit (no bar is drawn then). */
  percent: number | null;
  warn: boolean;
  full: boolean;
  note?: string;
}

function bar(label: string, used: number, quota: number | null, show: (n: number) => string, note?: string): UsageBar {
  if (quota === null) return { label, text: `${show(used)} (no limit)`, percent: null, warn: false, full: false };
  const share = used / quota;
  return {
    label,
    text: `${show(used)} of ${show(quota)}`,
    percent: Math.min(100, Math.round(share * 100)),
    warn: share >= WARN_AT,
    full: share >= 1,
    ...(note ? { note } : {}),
  };
}

/** The three bars the files and settings pages show: storage, files today, waiting files. */
export function usageBars(usage: Usage): UsageBar[] {
  const { storage, filesToday, queuedJobs } = usage;
  const resetAt = new Date(filesToday.resetAt).toISOString().slice(11, 16);
  return [
    bar('Storage', storage.usedBytes + storage.reservedBytes, storage.quotaBytes, formatBytes, storage.reservedBytes > 0 ? `${formatBytes(storage.reservedBytes)} held for uploads under way` : undefined),
    bar('Files today', filesToday.count, filesToday.quota, String, filesToday.quota === null ? undefined : `the count starts again at ${resetAt} UTC`),
    bar('Waiting or transcoding', queuedJobs.count, queuedJobs.quota, String),
  ];
}

/** What a page needs to draw the bars: `usage` and `usageBars`. */
export async function usageContext(deps: Pick<Deps, 'store' | 'config' | 'now'>, userId: string) {
  const usage = await usageOf(deps, userId);
  return { usage, usageBars: usageBars(usage) };
}
