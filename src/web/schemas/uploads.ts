import { Type } from 'typebox';
import { empty, problem, unauthenticated } from './common.ts';

/**
 * tus 1.0 (https://tus.io/protocols/resumable-upload) at /uploads. These schemas are
 * documentation only: the routes hand the raw request to @tus/server, which reads the headers
 * and the body stream itself, so resumable.ts turns schema validation off for them.
 */
const tusVersion = { 'tus-resumable': Type.Optional(Type.String({ description: 'Required by tus: 1.0.0' })) };
const uploadParams = Type.Object({ uploadId: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'Upload id (32 hex digits)' }) });
const notFound = problem('No such upload, or not the caller\'s (not_found)');
const csrf = problem('With a browser session: a missing or wrong x-csrf-token (csrf)');

export const createUploadSchema = {
  summary: 'Start a resumable upload (tus 1.0 creation; creation-with-upload accepted)',
  description:
    'tus 1.0: Tus-Resumable: 1.0.0, Upload-Length, Upload-Metadata with filename (required), name, presets (comma-separated). Then PATCH /uploads/{uploadId} with Upload-Offset and application/offset+octet-stream bodies; HEAD for the offset; DELETE to terminate. The request that completes the upload answers with Reprise-File-Id (the new file) or the problem+json of a refusal (same reasons as POST /files). At most 5 unfinished uploads per user; they expire after 24 h.',
  headers: Type.Object({
    ...tusVersion,
    'upload-length': Type.Optional(Type.String({ description: 'Total size in bytes (at most MAX_UPLOAD_BYTES)' })),
    'upload-metadata': Type.Optional(Type.String({ description: 'Comma-separated "key base64(value)" pairs: filename (required), name, presets' })),
  }),
  response: {
    201: empty('Created; Location is the upload URL'),
    400: problem('No filename in Upload-Metadata (missing_filename), or a malformed tus request'),
    401: unauthenticated,
    403: csrf,
    413: problem('Upload-Length over the caller\'s upload size limit (too_large, with `limit`, `quota`, `usage`)'),
    429: problem('Five unfinished uploads already (too_many_uploads), or daily_upload_limit / too_many_queued (with `limit`, `usage`, `quota`, `resetAt`; Retry-After)'),
    507: problem('Upload-Length does not fit the caller\'s storage quota (storage_quota_exceeded, with `limit`, `usage`, `quota`, `requested`)'),
  },
};

export const uploadOffsetSchema = {
  summary: 'Current offset (Upload-Offset) and length',
  params: uploadParams,
  headers: Type.Object(tusVersion),
  response: { 200: empty('Upload-Offset and Upload-Length in the headers'), 401: unauthenticated, 404: notFound },
};

export const appendUploadSchema = {
  summary: 'Append bytes at Upload-Offset',
  description: 'The request that delivers the last byte turns the upload into a file: Reprise-File-Id and Reprise-File-Url name it, or a problem+json gives the refusal (the reasons of POST /files).',
  params: uploadParams,
  headers: Type.Object({ ...tusVersion, 'upload-offset': Type.Optional(Type.String({ description: 'Where these bytes start; must equal the current offset' })) }),
  body: { content: { 'application/offset+octet-stream': { schema: Type.String({ format: 'binary' }) } } },
  response: {
    204: empty('Accepted; Reprise-File-Id when this completed the upload'),
    401: unauthenticated,
    403: csrf,
    404: notFound,
    409: problem('Upload-Offset is not the current offset'),
    413: problem('More bytes than Upload-Length or MAX_UPLOAD_BYTES'),
    415: problem('Not application/offset+octet-stream'),
    422: problem('The finished upload was refused (the reasons of POST /files)'),
    507: problem('storage_full'),
  },
};

export const terminateUploadSchema = {
  summary: 'Terminate and remove an unfinished upload',
  params: uploadParams,
  headers: Type.Object(tusVersion),
  response: { 204: empty('Removed'), 401: unauthenticated, 403: csrf, 404: notFound },
};

export const readUploadSchema = {
  summary: 'The bytes received so far',
  params: uploadParams,
  response: { 200: { description: 'The partial upload', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } }, 401: unauthenticated, 404: notFound },
};

export const uploadOptionsSchema = (what: string) => ({
  summary: `tus capabilities (${what})`,
  security: [],
  response: { 204: empty('Tus-Version, Tus-Extension and Tus-Max-Size in the headers') },
});
