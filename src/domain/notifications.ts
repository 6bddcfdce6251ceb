import { notFound } from '../errors.ts';
import { emit, recordEvent } from './events.ts';
import { queueJobEndMail } from './job-end-mail.ts';
import type { Deps, NotificationKind, NotificationRecord, PushEvent, Store } from './ports.ts';

export interface NotificationView {
  id: string;
  kind: NotificationKind;
  message: string;
  fileId: string | null;
  createdAt: string;
  dismissedAt: string | null;
}

export function toNotificationView(n: NotificationRecord): NotificationView {
  return {
    id: n.id,
    kind: n.kind,
    message: n.message,
    fileId: n.file_id,
    createdAt: new Date(n.created_at).toISOString(),
    dismissedAt: n.dismissed_at === null ? null : new Date(n.dismissed_at).toISOString(),
  };
}

/**
 * Records the one notification a job's end deserves, inside the caller's transaction. The dedupe
 * key names the file, its generation and the outcome, so a re-run (after a crash) cannot add a
 * second one; a retry starts a new generation and so earns its own.
 */
export async function recordJobOutcome(
  tx: Store,
  deps: Pick<Deps, 'newId' | 'now' | 'config'>,
  n: { userId: string; fileId: string; generation: number; kind: 'completed' | 'failed'; message: string; fileName: string; reason: string | null },
): Promise<{ userId: string; event: PushEvent } | undefined> {
  const row: NotificationRecord = {
    id: deps.newId(),
    user_id: n.userId,
    file_id: n.fileId,
    kind: n.kind,
    message: n.message,
    dedupe_key: `file:${n.fileId}:gen:${n.generation}:end`,
    created_at: deps.now(),
    dismissed_at: null,
  };
  if (!(await tx.notifications.insertOnce(row))) return undefined;
  // The mail (for an owner who asked for one) commits with the notification it reports, or not at all.
  await queueJobEndMail(tx, deps, { notificationId: row.id, userId: n.userId, fileId: n.fileId, fileName: n.fileName, kind: n.kind, reason: n.reason });
  return recordEvent(tx, deps, n.userId, 'notification.created', toNotificationView(row));
}

export async function listNotifications(deps: Pick<Deps, 'store'>, userId: string, unreadOnly: boolean) {
  const rows = await deps.store.notifications.listForUser(userId, { unreadOnly, limit: 200 });
  return rows.map(toNotificationView);
}

export async function dismissNotification(deps: Pick<Deps, 'store' | 'push' | 'now'>, userId: string, id: string) {
  const row = await deps.store.notifications.dismiss(userId, id, deps.now());
  if (!row) throw notFound('notification');
  await emit(deps, userId, 'notification.dismissed', { ids: [id] });
  return toNotificationView(row);
}

export async function dismissAllNotifications(deps: Pick<Deps, 'store' | 'push' | 'now'>, userId: string) {
  const ids = await deps.store.notifications.dismissAll(userId, deps.now());
  if (ids.length > 0) await emit(deps, userId, 'notification.dismissed', { ids });
  return ids.length;
}

/**
 * A notification that is not a job's end (a webhook endpoint that was disabled, a file about to
 * be deleted), inside the caller's transaction; the dedupe key makes a re-run add it only once.
 */
export async function recordNotice(
  tx: Store,
  deps: Pick<Deps, 'newId' | 'now'>,
  n: { userId: string; message: string; dedupeKey: string; fileId?: string; kind?: NotificationKind },
): Promise<{ userId: string; event: PushEvent } | undefined> {
  const row: NotificationRecord = {
    id: deps.newId(),
    user_id: n.userId,
    file_id: n.fileId ?? null,
    kind: n.kind ?? 'failed',
    message: n.message,
    dedupe_key: n.dedupeKey,
    created_at: deps.now(),
    dismissed_at: null,
  };
  if (!(await tx.notifications.insertOnce(row))) return undefined;
  return recordEvent(tx, deps, n.userId, 'notification.created', toNotificationView(row));
}
