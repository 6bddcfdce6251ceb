import { usageOf, type Usage } from '../domain/quotas.ts';
import type { Deps } from '../domain/ports.ts';
import { formatBytes } from '../format.ts';

/**
 * At this share of a limit the bar turns to a warning, so a refusal never comes as a surprise.
 * The page script (static/usage-live.js) reads it from the page, so the two cannot disagree.
 */
export const WARN_AT = 0.8;

export type UsageBarKey = 'storage' | 'filesToday' | 'queuedJobs';

export interface UsageBar {
  key: UsageBarKey;
  label: string;
  /** "1.2 GB of 2.0 GB", or "12 (no limit)". */
  text: string;
  /** 0..100 (whole percent, rounded down), or null without a limit (no bar is drawn then). */
  percent: number | null;
  warn: boolean;
  full: boolean;
  note?: string;
  /** What the page says from WARN_AT on, and at the limit: what will be refused, and until when. */
  alerts: { warn: string; full: string };
}

type BarBasics = Pick<UsageBar, 'key' | 'label' | 'alerts'>;

function bar(basics: BarBasics, used: number, quota: number | null, show: (n: number) => string, note?: string): UsageBar {
  if (quota === null) return { ...basics, text: `${show(used)} (no limit)`, percent: null, warn: false, full: false };
  const share = used / quota;
  return {
    ...basics,
    text: `${show(used)} of ${show(quota)}`,
    percent: Math.min(100, Math.floor(share * 100)),
    warn: share >= WARN_AT,
    full: share >= 1,
    ...(note ? { note } : {}),
  };
}

const nearly = `Over ${Math.round(WARN_AT * 100)}% used.`;

/** The three bars the files, settings and admin pages show: storage, files today, waiting files. */
export function usageBars(usage: Usage): UsageBar[] {
  const { storage, filesToday, queuedJobs } = usage;
  const resetAt = new Date(filesToday.resetAt).toISOString().slice(11, 16);
  return [
    bar(
      { key: 'storage', label: 'Storage', alerts: { warn: `${nearly} An upload that does not fit in what is left is refused.`, full: 'Storage is full: uploads are refused until files are deleted.' } },
      storage.usedBytes + storage.reservedBytes,
      storage.quotaBytes,
      formatBytes,
      storage.reservedBytes > 0 ? reservedNote(storage.reservedBytes) : undefined,
    ),
    bar(
      { key: 'filesToday', label: 'Files today', alerts: { warn: nearly, full: `Today's uploads are used up: more are refused until ${resetAt} UTC.` } },
      filesToday.count,
      filesToday.quota,
      String,
      filesToday.quota === null ? undefined : `the count starts again at ${resetAt} UTC`,
    ),
    bar(
      { key: 'queuedJobs', label: 'Waiting or transcoding', alerts: { warn: nearly, full: 'As many files as allowed are waiting: new uploads are refused until one finishes.' } },
      queuedJobs.count,
      queuedJobs.quota,
      String,
    ),
  ];
}

export const reservedNote = (bytes: number) => `${formatBytes(bytes)} held for uploads under way`;

/** What a page needs to draw the bars: `usage`, `usageBars` and `usageWarnAt` (a percent). */
export function usagePageContext(usage: Usage) {
  return { usage, usageBars: usageBars(usage), usageWarnAt: Math.round(WARN_AT * 100) };
}

export async function usageContext(deps: Pick<Deps, 'store' | 'config' | 'now'>, userId: string) {
  return usagePageContext(await usageOf(deps, userId));
}
