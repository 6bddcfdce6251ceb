import { Type } from 'typebox';
import type { FileView, OutputView } from '../../domain/files.ts';
import { DateTime, IdParams, Nullable, empty, json, notFound, problem, readOnly, ref, unauthenticated, withCode } from './common.ts';
import { LoudnessSchema, loudnessUploadFields } from './loudness.ts';
import { trimUploadFields } from './outputs.ts';

const fileStatus = Type.Union(['queued', 'running', 'completed', 'failed', 'canceled'].map((s) => Type.Literal(s)));

export const OutputSchema = Type.Object(
  {
    preset: Type.String(),
    label: Type.String(),
    mimeType: Type.String(),
    extension: Type.String(),
    size: Type.Integer(),
    durationMs: Type.Integer(),
    bitRate: Type.Integer(),
    url: Type.String({ description: 'GET it for the bytes (Range supported)' }),
  },
  { $id: 'Output', title: 'Output' },
);

export const FileSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    originalFilename: Type.String(),
    status: fileStatus,
    progress: Type.Integer({ minimum: 0, maximum: 100 }),
    error: Nullable(Type.String()),
    presets: Type.Array(Type.String()),
    input: Type.Object({
      format: Type.String(),
      codec: Type.String(),
      size: Type.Integer(),
      durationMs: Type.Integer(),
      sampleRate: Type.Integer(),
      channels: Type.Integer(),
    }),
    outputs: Type.Array(ref<OutputView>('Output'), { description: 'Only outputs that exist in full' }),
    waveform: Nullable(Type.Array(Type.Integer()), 'Peak levels 0..100 for drawing a waveform, once transcoded'),
    loudness: LoudnessSchema,
    trim: Nullable(
      Type.Object({ start: Type.Number({ description: 'Seconds' }), end: Nullable(Type.Number({ description: 'Seconds' }), 'null: to the end') }),
      'The part of the input every output is made from (the upload fields start and end); null: all of it',
    ),
    producing: Nullable(Type.Array(Type.String()), 'The presets a later run (POST /files/{id}/outputs) makes; null when the job makes every preset'),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    expiresAt: Nullable(DateTime(), 'When retention deletes the file, source and outputs (a notification comes a day before); null: kept until deleted'),
  },
  { $id: 'File', title: 'File' },
);

export const FileRef = ref<FileView>('File');
const fileParams = IdParams('File');
const uploadRefusals =
  'Refused with a problem+json naming the reason: 400 malformed_multipart or upload_interrupted; 413 too_large (MAX_UPLOAD_BYTES); 422 unsupported_media, input_too_long (MAX_INPUT_SECONDS), output_too_large (MAX_OUTPUT_BYTES, estimated from the chosen presets), too_many_channels (over 8), unknown_preset, empty_file, missing_file, invalid_loudness or invalid_trim (the field named), trim_out_of_range (end past the probed duration); 507 storage_full. A body that delivers under 16 KiB in UPLOAD_IDLE_SECONDS is cut. With remote storage the probe runs in the job, so the same reasons arrive as a failed job.';

export const listFilesSchema = {
  summary: "List the caller's files, newest first, a page at a time",
  description:
    'Pages are cut by a cursor, not an offset: pass the `next` of one answer as `before` to get the files after it. Files added or deleted meanwhile never make a page repeat or skip one. Without `before`, the newest files.',
  // Not bounded here: the domain answers a bad status, limit or cursor with its own 422 codes.
  querystring: Type.Object({
    status: Type.Optional(Type.String({ description: 'Only files in this state: queued, running, completed, failed or canceled' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'Files per page, 1 to 200 (default 50)' })),
    before: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page' })),
  }),
  response: {
    200: json(
      Type.Object({
        files: Type.Array(FileRef),
        next: Nullable(Type.String(), 'Pass as `before` for the next page; null on the last page'),
      }),
      'Files',
    ),
    401: unauthenticated,
    422: problem('A status that is not one of the five (invalid_status), a limit outside 1 to 200 (invalid_limit), a cursor not given out here (invalid_cursor), or a limit that is not a whole number (invalid_query)'),
  },
};

const selectionBody = Type.Object({
  ids: Type.Optional(withCode(Type.Array(Type.String(), { description: 'File ids (1 to 1,000)' }), 'invalid_ids')),
});
const selectionRefusals = {
  401: unauthenticated,
  403: readOnly,
  404: notFound("file (any id that is not one of the caller's files: then nothing is done)"),
  422: problem('Not a list of ids (invalid_ids), an empty one (no_files_chosen) or over 1,000 (too_many_files)'),
};

export const deleteFilesSchema = {
  summary: 'Delete several files and their outputs',
  description: 'All or nothing as to ownership: if any id is not one of the caller\'s files, none is deleted.',
  body: selectionBody,
  response: { 200: json(Type.Object({ deleted: Type.Array(Type.String()) }), 'Deleted'), ...selectionRefusals },
};

export const retryFilesSchema = {
  summary: 'Retry several failed or canceled jobs',
  description: "Files that are not failed or canceled are left alone and listed in `skipped`. If any id is not one of the caller's files, nothing is retried.",
  body: selectionBody,
  response: { 200: json(Type.Object({ retried: Type.Array(Type.String()), skipped: Type.Array(Type.String()) }), 'Queued again'), ...selectionRefusals },
};

/**
 * Documentation only: @fastify/multipart reads this body as a stream inside the handler (see
 * upload.ts), so nothing is parsed before validation would run. The route turns validation off
 * (validatorCompiler in api.ts); the multipart reader and the domain check the fields.
 */
export const uploadBody = {
  content: {
    'multipart/form-data': {
      schema: Type.Object({
        file: Type.String({ format: 'binary', contentMediaType: 'application/octet-stream' }),
        name: Type.Optional(Type.String({ description: 'Display name; defaults to the file name' })),
        presets: Type.Optional(Type.String({ description: 'Comma-separated preset ids; defaults to wav-44k-16,flac-cd,aac-256k' })),
        ...loudnessUploadFields,
        ...trimUploadFields,
      }),
    },
  },
};

export const uploadFileSchema = {
  summary: 'Upload an audio file and queue its transcode',
  description: uploadRefusals,
  body: uploadBody,
  response: {
    201: json(FileRef, 'Queued; Location names the new file'),
    400: problem('malformed_multipart or upload_interrupted'),
    401: unauthenticated,
    403: readOnly,
    413: problem('too_large (the caller\'s upload size limit: `limit` upload_size, `quota`, `usage` the declared size) or too_many_files'),
    415: problem('Not multipart/form-data (not_multipart, unsupported_media_type)'),
    422: problem('unsupported_media, input_too_long, output_too_large, too_many_channels, unknown_preset, empty_file, missing_file, invalid_loudness, invalid_trim or trim_out_of_range'),
    429: problem('daily_upload_limit (`limit` files_per_day, `usage`, `quota`, `resetAt`; Retry-After) or too_many_queued (`limit` queued_jobs; Retry-After), checked before the body is read'),
    507: problem('storage_quota_exceeded (`limit` storage, `usage` bytes kept and reserved, `quota`, `requested`), checked against Content-Length before the body is read; or storage_full (the server\'s disk)'),
  },
};

export const getFileSchema = {
  summary: 'One file with its outputs',
  params: fileParams,
  response: { 200: json(FileRef, 'File'), 401: unauthenticated, 404: notFound('file') },
};

export const deleteFileSchema = {
  summary: 'Delete a file and its outputs',
  params: fileParams,
  response: { 204: empty('Deleted'), 401: unauthenticated, 403: readOnly, 404: notFound('file') },
};

export const cancelFileSchema = {
  summary: 'Cancel a queued or running job',
  params: fileParams,
  response: { 200: json(FileRef, 'Canceled'), 401: unauthenticated, 403: readOnly, 404: notFound('file'), 409: problem('Not queued or running (not_cancelable)') },
};

export const retryFileSchema = {
  summary: 'Retry a failed or canceled job',
  params: fileParams,
  response: { 200: json(FileRef, 'Queued again'), 401: unauthenticated, 403: readOnly, 404: notFound('file'), 409: problem('Not failed or canceled (not_retryable)') },
};

const audio = (description: string) => ({ description, content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } });

export const outputSchema = {
  summary: "An output's bytes; supports a single Range",
  description: 'The Content-Type is the preset\'s MIME type (audio/flac, audio/mp4, …); Content-Disposition is attachment unless inline is given.',
  params: Type.Object({ id: fileParams.properties.id, preset: Type.String({ maxLength: 64, description: 'Preset id' }) }),
  querystring: Type.Object({ inline: Type.Optional(Type.String({ description: 'Any value: Content-Disposition inline (for players)' })) }),
  response: {
    200: audio('Whole output'),
    206: audio('Partial content (Content-Range)'),
    401: unauthenticated,
    404: notFound('file or output'),
    416: empty('Range not satisfiable'),
  },
};
