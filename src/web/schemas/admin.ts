import { Type } from 'typebox';
import { DateTime, IdParams, Nullable, empty, json, problem } from './common.ts';
import { FileRef } from './files.ts';
import { UsageSchema } from './usage.ts';

/**
 * The admin API (administrators only). Anyone else gets 404 on every one of these routes, as for
 * an address that does not exist; see docs/decisions/0022-administrators.md.
 */
const hidden = problem('Not an administrator, not signed in, or no such route (not_found): the admin area answers all alike');
const noSuch = (what: string) => problem(`No such ${what}; also what anyone but an administrator gets (not_found)`);
const adminOnly = { description: 'Administrators only: anyone else gets 404 here.' };
const selfOrLast = problem('The account is your own (cannot_act_on_self) or the last enabled administrator (last_admin)');

const AdminUser = Type.Object(
  {
    id: Type.String(),
    username: Type.String(),
    isAdmin: Type.Boolean(),
    disabled: Type.Boolean(),
    disabledAt: Nullable(DateTime()),
    createdAt: DateTime(),
    files: Type.Integer({ minimum: 0 }),
    usage: Type.Object(
      {
        sourceBytes: Type.Integer({ minimum: 0 }),
        outputBytes: Type.Integer({ minimum: 0 }),
        totalBytes: Type.Integer({ minimum: 0 }),
      },
      { description: 'Bytes of uploads and of finished outputs, as recorded when stored' },
    ),
    quotaBytes: Nullable(Type.Integer({ minimum: 0 }), 'The storage quota; null: none'),
  },
  { $id: 'AdminUser', title: 'AdminUser' },
);

const QueueState = Type.Object(
  {
    paused: Type.Boolean({ description: 'true: no worker of this instance takes a new job' }),
    by: Nullable(Type.String(), 'The administrator who paused it'),
    since: Nullable(DateTime()),
  },
  { $id: 'QueueState', title: 'QueueState' },
);
const QueueStateRef = Type.Unsafe<{ paused: boolean; by: string | null; since: string | null }>({ $ref: 'QueueState#' });

const AdminJob = Type.Object({
  id: Type.String({ description: "The job's file id: what POST /admin/jobs/{id}/cancel takes" }),
  name: Type.String(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('running')]),
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  presets: Type.Array(Type.String()),
  user: Type.Object({ id: Type.String(), username: Type.String() }),
  worker: Nullable(Type.String(), 'The worker pool running it; null while queued'),
  createdAt: DateTime(),
});

const AdminWorker = Type.Object({
  id: Type.String({ description: 'Worker pool id' }),
  host: Type.String(),
  pid: Type.Integer(),
  version: Type.String({ description: 'Reprise version it runs' }),
  lastSeen: DateTime('Its last heartbeat'),
  ageSeconds: Type.Integer({ minimum: 0 }),
  alive: Type.Boolean({ description: 'Heard from within 30 s' }),
  jobs: Type.Array(
    Type.Object({ key: Type.String(), fileId: Nullable(Type.String()), name: Nullable(Type.String()), username: Nullable(Type.String()) }),
    { description: 'What it runs now' },
  ),
});

const AdminFailure = Type.Object({
  id: Type.String({ description: 'File id' }),
  name: Type.String(),
  user: Type.Object({ id: Type.String(), username: Type.String() }),
  error: Type.String({ description: 'Why it failed' }),
  presets: Type.Array(Type.String()),
  failedAt: DateTime(),
});

export const adminSchemas = [AdminUser, QueueState];

const userParams = IdParams('User');

export const listUsersSchema = {
  summary: 'List every account with its storage use (admin)',
  ...adminOnly,
  response: { 200: json(Type.Object({ users: Type.Array(Type.Unsafe({ $ref: 'AdminUser#' })) }), 'Accounts, oldest first'), 404: hidden },
};

const userAction = (summary: string, done: string) => ({
  summary,
  ...adminOnly,
  params: userParams,
  response: { 200: json(Type.Unsafe({ $ref: 'AdminUser#' }), done), 404: noSuch('user'), 409: selfOrLast },
});
export const disableUserSchema = userAction('Disable an account: its sessions and tokens stop working at once (admin)', 'Disabled');
export const enableUserSchema = {
  ...userAction('Enable a disabled account (admin)', 'Enabled'),
  response: { 200: json(Type.Unsafe({ $ref: 'AdminUser#' }), 'Enabled'), 404: noSuch('user') },
};

export const deleteUserSchema = {
  summary: 'Delete an account and everything it owns, bytes included (admin)',
  ...adminOnly,
  params: userParams,
  response: { 204: empty('Deleted, with its files, outputs, uploads, notifications, tokens, sessions, webhooks and presets'), 404: noSuch('user'), 409: selfOrLast },
};

export const listJobsSchema = {
  summary: 'Queued and running jobs of every user, per user and per worker (admin)',
  ...adminOnly,
  response: {
    200: json(
      Type.Object({
        queue: QueueStateRef,
        jobs: Type.Array(AdminJob, { description: 'Oldest first, at most 500' }),
        perUser: Type.Array(Type.Object({ userId: Type.String(), username: Type.String(), queued: Type.Integer(), running: Type.Integer() })),
        perWorker: Type.Array(Type.Object({ worker: Type.String(), running: Type.Integer() })),
      }),
      'The queue',
    ),
    404: hidden,
  },
};

export const cancelJobSchema = {
  summary: "Cancel anyone's queued or running job (admin)",
  ...adminOnly,
  params: IdParams('File'),
  response: { 200: json(FileRef, 'Canceled'), 404: noSuch('job'), 409: problem('Not queued or running (not_cancelable)') },
};

const queueAction = (summary: string, done: string) => ({ summary, ...adminOnly, response: { 200: json(QueueStateRef, done), 404: hidden } });
export const pauseQueueSchema = queueAction('Pause job claiming on the whole instance: running jobs finish, queued ones wait (admin)', 'Paused');
export const resumeQueueSchema = queueAction('Resume job claiming (admin)', 'Resumed');

export const listWorkersSchema = {
  summary: 'Worker pools heard from in the last hour: heartbeat, current jobs, version (admin)',
  ...adminOnly,
  response: { 200: json(Type.Object({ workers: Type.Array(AdminWorker) }), 'Workers, most recently heard first'), 404: hidden },
};

export const listFailuresSchema = {
  summary: 'Recent failed jobs with their reasons (admin)',
  ...adminOnly,
  response: { 200: json(Type.Object({ failures: Type.Array(AdminFailure, { description: 'Most recent first, at most 50' }) }), 'Failures'), 404: hidden },
};

const override = (description: string) => Type.Optional(Nullable(Type.Integer({ minimum: 1 }), `${description}; null: back to the setting's default`));

export const setLimitsSchema = {
  summary: "Change an account's limits (admin): any subset; null returns one to the setting's default",
  ...adminOnly,
  params: userParams,
  body: Type.Object(
    {
      quotaBytes: override('Storage quota in bytes (default QUOTA_BYTES)'),
      queuedJobs: override('Waiting files at once (default QUOTA_QUEUED_JOBS)'),
      filesPerDay: override('Uploads per UTC day (default QUOTA_FILES_PER_DAY)'),
      maxUploadBytes: override('Largest upload (default MAX_UPLOAD_BYTES)'),
      maxInputSeconds: override('Longest input in seconds (default MAX_INPUT_SECONDS)'),
      maxOutputBytes: override("Most bytes one file's outputs may take (default MAX_OUTPUT_BYTES)"),
    },
    { additionalProperties: false },
  ),
  response: { 200: json(UsageSchema, 'The account\'s usage against its limits, as now in force'), 404: noSuch('user'), 422: problem('A limit that is not a whole number of at least 1 or null (invalid_quota, or the field named)') },
};
