/**
 * The admin area's accounts: who they are, what they store, and an administrator's three
 * actions on them (disable, enable, delete with everything they own). See decision 0022.
 */
import { AppError, notFound } from '../errors.ts';
import { transcodeKey } from '../jobs/definitions.ts';
import { fileBlobPrefix } from './blob-keys.ts';
import { limitsOf } from './quotas.ts';
import type { Deps, UserRecord, UserUsage } from './ports.ts';

export type AdminDeps = Pick<Deps, 'store' | 'blobs' | 'log' | 'now' | 'config'>;

/** Who acts: every admin action is logged with it. */
export interface Actor {
  id: string;
  username: string;
}

export interface AdminUserView {
  id: string;
  username: string;
  isAdmin: boolean;
  disabled: boolean;
  disabledAt: string | null;
  createdAt: string;
  files: number;
  /** Bytes of sources and of outputs, as recorded when each was stored. */
  usage: { sourceBytes: number; outputBytes: number; totalBytes: number };
  /** The account's storage quota (QUOTA_BYTES or its override); null: none. */
  quotaBytes: number | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toAdminUserView(u: UserUsage, quotaBytes: number | null): AdminUserView {
  return {
    id: u.user.id,
    username: u.user.username,
    isAdmin: u.user.is_admin,
    disabled: u.user.disabled_at !== null,
    disabledAt: iso(u.user.disabled_at),
    createdAt: new Date(u.user.created_at).toISOString(),
    files: u.files,
    usage: { sourceBytes: u.sourceBytes, outputBytes: u.outputBytes, totalBytes: u.sourceBytes + u.outputBytes },
    quotaBytes,
  };
}

export async function listUsers(deps: Pick<Deps, 'store' | 'config'>): Promise<AdminUserView[]> {
  const users = await deps.store.users.listWithUsage();
  return Promise.all(users.map(async (u) => toAdminUserView(u, (await limitsOf(deps, u.user.id)).quotaBytes)));
}

export async function userView(deps: Pick<Deps, 'store' | 'config'>, id: string): Promise<AdminUserView> {
  const found = (await deps.store.users.listWithUsage()).find((u) => u.user.id === id);
  if (!found) throw notFound('user');
  return toAdminUserView(found, (await limitsOf(deps, id)).quotaBytes);
}

/** An administrator never locks the instance out: not themself, and never the last enabled admin. */
async function mayActOn(deps: Pick<Deps, 'store'>, actor: Actor, targetId: string, action: string): Promise<UserRecord> {
  const target = await deps.store.users.findById(targetId);
  if (!target) throw notFound('user');
  if (target.id === actor.id) throw new AppError('cannot_act_on_self', 409, `You cannot ${action} your own account; ask another administrator.`);
  if (target.is_admin && target.disabled_at === null && (await deps.store.users.countEnabledAdmins()) <= 1) {
    throw new AppError('last_admin', 409, `That is the last enabled administrator: you cannot ${action} it.`);
  }
  return target;
}

/**
 * Disables an account: its sessions end (they are deleted) and its tokens are refused from the
 * next request on, on every web process, since both are checked against the database each time.
 */
export async function disableUser(deps: AdminDeps, actor: Actor, targetId: string): Promise<AdminUserView> {
  const target = await mayActOn(deps, actor, targetId, 'disable');
  if (target.disabled_at === null) await deps.store.users.setDisabled(target.id, deps.now());
  const sessions = await deps.store.sessions.removeForUser(target.id);
  deps.log.info({ admin: actor.username, action: 'user.disable', userId: target.id, username: target.username, sessions }, 'admin action');
  return userView(deps, target.id);
}

export async function enableUser(deps: AdminDeps, actor: Actor, targetId: string): Promise<AdminUserView> {
  const target = await deps.store.users.findById(targetId);
  if (!target) throw notFound('user');
  await deps.store.users.setDisabled(target.id, null);
  deps.log.info({ admin: actor.username, action: 'user.enable', userId: target.id, username: target.username }, 'admin action');
  return userView(deps, target.id);
}

export interface DeletedUser {
  files: number;
  uploads: number;
}

/**
 * Deletes an account and everything it owns: rows by cascade (files, outputs, notifications,
 * events, sessions, tokens, webhooks and their deliveries, presets, upload records) in one
 * transaction with its queued jobs; then the bytes, from blob storage and unfinished uploads.
 * A running transcode of theirs finds its row gone and removes what it had written.
 */
export async function deleteUser(
  deps: AdminDeps,
  actor: Actor,
  targetId: string,
  forgetUpload: (id: string) => Promise<void>,
): Promise<DeletedUser> {
  const target = await mayActOn(deps, actor, targetId, 'delete');
  const files = await deps.store.files.listForUser(target.id);
  const uploads = await deps.store.resumableUploads.idsForUser(target.id);
  await deps.store.transaction(async (tx) => {
    for (const f of files) {
      if (f.status === 'queued' || f.status === 'running') await tx.jobs.removeQueued(transcodeKey({ fileId: f.id, generation: f.generation }));
    }
    if (!(await tx.users.remove(target.id))) throw notFound('user');
  });
  for (const f of files) await deps.blobs.deletePrefix(fileBlobPrefix(f.id));
  for (const id of uploads) await forgetUpload(id).catch((err: unknown) => deps.log.warn({ err, uploadId: id }, 'could not remove an upload of a deleted user'));
  deps.log.info({ admin: actor.username, action: 'user.delete', userId: target.id, username: target.username, files: files.length, uploads: uploads.length }, 'admin action');
  return { files: files.length, uploads: uploads.length };
}
