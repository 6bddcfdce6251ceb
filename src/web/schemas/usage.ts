import { Type } from 'typebox';
import { DateTime, json, Nullable, unauthenticated } from './common.ts';

const count = (description: string) => Type.Integer({ minimum: 0, description });
const limit = (description: string) => Nullable(Type.Integer({ minimum: 1 }), `${description}; null: unlimited`);

export const UsageSchema = Type.Object({
  storage: Type.Object({
    usedBytes: count('Bytes of the caller\'s sources and outputs, exact (a deleted file\'s bytes are given back at once)'),
    reservedBytes: count('Bytes held for uploads under way (their declared length)'),
    quotaBytes: limit('Storage quota in bytes (QUOTA_BYTES or an override)'),
  }),
  filesToday: Type.Object({
    count: count('Uploads started this UTC day (refused ones do not count)'),
    quota: limit('Uploads per UTC day (QUOTA_FILES_PER_DAY or an override)'),
    resetAt: DateTime('When the count starts again (next UTC midnight)'),
  }),
  queuedJobs: Type.Object({
    count: count('Files waiting or transcoding, uploads under way included'),
    quota: limit('At most this many at once (QUOTA_QUEUED_JOBS or an override)'),
  }),
  limits: Type.Object({
    quotaBytes: limit('Storage quota'),
    queuedJobs: limit('Waiting files at once'),
    filesPerDay: limit('Uploads per UTC day'),
    maxUploadBytes: Type.Integer({ description: 'Largest upload (MAX_UPLOAD_BYTES or an override)' }),
    maxInputSeconds: Type.Number({ description: 'Longest input (MAX_INPUT_SECONDS or an override)' }),
    maxOutputBytes: Type.Integer({ description: 'Most bytes one file\'s outputs may take (MAX_OUTPUT_BYTES or an override)' }),
  }),
});

export const getUsageSchema = {
  summary: 'The caller\'s storage, uploads today and waiting files, against their limits',
  description: 'Limits come from the settings unless an administrator set others for this user. An upload over a limit is refused before its bytes are stored: 413 (upload size), 429 (files per day, waiting files), 507 (storage).',
  response: { 200: json(UsageSchema, 'Usage and limits'), 401: unauthenticated },
};
