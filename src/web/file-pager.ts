import type { FilePage } from '../domain/file-list.ts';
import type { FileStatus } from '../domain/ports.ts';

export interface PageQuery {
  status?: string;
  before?: string;
  after?: string;
}

/** The files page's query string, with anything not a single string ignored. */
export function pageQueryOf(raw: unknown): PageQuery {
  const q = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const one = (key: string) => (typeof q[key] === 'string' ? q[key] : undefined);
  return { status: one('status'), before: one('before'), after: one('after') };
}

/** Links that page through the list without JavaScript, keeping the status filter. */
export function pagerLinks(filter: FileStatus | undefined, page: Pick<FilePage, 'next' | 'previous'>) {
  const href = (cursor: Record<string, string>) => `/files?${new URLSearchParams({ ...(filter ? { status: filter } : {}), ...cursor }).toString()}`.replace(/\?$/, '');
  return {
    newest: page.previous ? href({}) : null,
    newer: page.previous ? href({ after: page.previous }) : null,
    older: page.next ? href({ before: page.next }) : null,
    filterHref: (status: FileStatus | null) => `/files${status ? `?status=${status}` : ''}`,
  };
}

export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
