import { loudnessFileSchema, loudnessUploadFields } from './openapi-loudness.ts';
import { webhookPaths, webhookSchemas } from './openapi-webhooks.ts';
/** The API described for programs: served at /api/v1/openapi.json. Keep it in step with api.ts. */
const problem = { $ref: '#/components/responses/Problem' };
const id = (name: string, what: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description: what });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const authErrors = { 401: problem, 404: problem };

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Reprise API',
      version: '1',
      description:
        'Upload audio, transcode it to chosen presets, get notified, download the outputs. Authenticate with a bearer token from POST /tokens. Errors are application/problem+json (RFC 9457). A foreign or unknown id answers 404.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths: {
      '/accounts': {
        post: {
          summary: 'Create an account (when sign-up is open)',
          security: [],
          requestBody: json(ref('Credentials')),
          responses: { 201: { description: 'Created', ...json(ref('Account')) }, 403: problem, 409: problem, 422: problem, 429: problem },
        },
      },
      '/tokens': {
        post: {
          summary: 'Create a named token (with a bearer token), or exchange username and password for one (without)',
          description:
            'With an Authorization header: a named token, optionally expiring and read-only; read-only tokens get 403 read_only_token here; 422 invalid_token_name, invalid_expiry or invalid_read_only. Without one: the username/password exchange, limited like sign-in (429), issuing a full-access token named "Password exchange". The token is in this answer only; only its hash is stored.',
          security: [{ bearer: [] }, {}],
          requestBody: json({ oneOf: [ref('NewTokenRequest'), ref('Credentials')] }),
          responses: {
            201: { description: 'Token issued', ...json({ oneOf: [ref('NewToken'), { type: 'object', properties: { token: { type: 'string' }, tokenType: { const: 'Bearer' } } }] }) },
            401: problem,
            403: problem,
            422: problem,
            429: problem,
          },
        },
        get: { summary: "The caller's tokens, newest first (never the tokens themselves)", responses: { 200: { description: 'Tokens', ...json({ type: 'object', properties: { tokens: { type: 'array', items: ref('Token') } } }) }, 401: problem } },
      },
      '/tokens/{id}': {
        parameters: [id('id', 'Token id')],
        delete: { summary: 'Revoke a token: it answers 401 from the next request on', responses: { 204: { description: 'Revoked' }, ...authErrors, 403: problem } },
      },
      '/presets': { get: { summary: 'List output presets', security: [], responses: { 200: { description: 'Presets', ...json({ type: 'object', properties: { presets: { type: 'array', items: ref('Preset') } } }) } } } },
      '/files': {
        get: { summary: "List the caller's files", responses: { 200: { description: 'Files', ...json({ type: 'object', properties: { files: { type: 'array', items: ref('File') } } }) }, 401: problem } },
        post: {
          summary: 'Upload an audio file and queue its transcode',
          description:
            'Refused with a problem+json naming the reason: 400 malformed_multipart or upload_interrupted; 413 too_large (MAX_UPLOAD_BYTES); 422 unsupported_media, input_too_long (MAX_INPUT_SECONDS), output_too_large (MAX_OUTPUT_BYTES, estimated from the chosen presets), too_many_channels (over 8), unknown_preset, empty_file, invalid_loudness (with `field`: the loudness field at fault); 507 storage_full. A body that delivers under 16 KiB in UPLOAD_IDLE_SECONDS is cut. With remote storage the probe runs in the job, so the same reasons arrive as a failed job.',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: {
                    file: { type: 'string', format: 'binary' },
                    name: { type: 'string', description: 'Display name; defaults to the file name' },
                    presets: { type: 'string', description: 'Comma-separated preset ids; defaults to wav-44k-16,flac-cd,aac-256k' },
                    ...loudnessUploadFields,
                  },
                },
              },
            },
          },
          responses: { 201: { description: 'Queued', ...json(ref('File')) }, 400: problem, 401: problem, 413: problem, 415: problem, 422: problem, 507: problem },
        },
      },
      '/files/{id}': {
        parameters: [id('id', 'File id')],
        get: { summary: 'One file with its outputs', responses: { 200: { description: 'File', ...json(ref('File')) }, ...authErrors } },
        delete: { summary: 'Delete a file and its outputs', responses: { 204: { description: 'Deleted' }, ...authErrors } },
      },
      '/files/{id}/cancel': { parameters: [id('id', 'File id')], post: { summary: 'Cancel a queued or running job', responses: { 200: { description: 'Canceled', ...json(ref('File')) }, ...authErrors, 409: problem } } },
      '/files/{id}/retry': { parameters: [id('id', 'File id')], post: { summary: 'Retry a failed or canceled job', responses: { 200: { description: 'Queued', ...json(ref('File')) }, ...authErrors, 409: problem } } },
      '/files/{id}/outputs/{preset}': {
        parameters: [id('id', 'File id'), id('preset', 'Preset id'), { name: 'inline', in: 'query', schema: { type: 'string' }, description: 'Any value: Content-Disposition inline (for players)' }],
        get: {
          summary: "An output's bytes; supports a single Range",
          responses: { 200: { description: 'Whole output' }, 206: { description: 'Partial content' }, 416: { description: 'Range not satisfiable' }, ...authErrors },
        },
      },
      '/notifications': {
        get: {
          summary: "The caller's notifications, newest first",
          parameters: [{ name: 'state', in: 'query', schema: { enum: ['unread'] }, description: 'unread: undismissed only' }],
          responses: { 200: { description: 'Notifications', ...json({ type: 'object', properties: { notifications: { type: 'array', items: ref('Notification') } } }) }, 401: problem },
        },
      },
      '/notifications/{id}/dismiss': { parameters: [id('id', 'Notification id')], post: { summary: 'Dismiss one notification', responses: { 200: { description: 'Dismissed', ...json(ref('Notification')) }, ...authErrors } } },
      '/events': {
        get: {
          summary: 'Server-Sent Events for the caller: notification.created, notification.dismissed, file.updated',
          parameters: [
            { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'Replay events after this id (a non-negative integer; anything else starts fresh)' },
            { name: 'lastEventId', in: 'query', required: false, schema: { type: 'string' }, description: 'Same, for clients that cannot set headers' },
          ],
          responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 401: problem, 429: { ...problem, description: 'Too many streams open for this account (EVENT_STREAMS_PER_USER)' } },
        },
      },
      ...webhookPaths,
      '/uploads': {
        post: {
          summary: 'Start a resumable upload (tus 1.0 creation; creation-with-upload accepted)',
          description:
            'tus 1.0 (https://tus.io/protocols/resumable-upload): Tus-Resumable: 1.0.0, Upload-Length, Upload-Metadata with filename (required), name, presets (comma-separated), loudness, loudnessI, loudnessTP, loudnessLRA (as the POST /files fields; a bad one is refused at creation). Then PATCH /uploads/{id} with Upload-Offset and application/offset+octet-stream bodies; HEAD for the offset; DELETE to terminate. The request that completes the upload answers with Reprise-File-Id (the new file) or the problem+json of a refusal (same reasons as POST /files). At most 5 unfinished uploads per user; they expire after 24 h.',
          responses: { 201: { description: 'Created; Location is the upload URL' }, 400: problem, 401: problem, 413: problem, 429: problem },
        },
      },
      '/uploads/{id}': {
        parameters: [id('id', 'Upload id (32 hex digits)')],
        head: { summary: 'Current offset (Upload-Offset)', responses: { 200: { description: 'Offset in headers' }, 404: problem } },
        patch: { summary: 'Append bytes at Upload-Offset', responses: { 204: { description: 'Accepted; Reprise-File-Id when this completed the upload' }, 404: problem, 409: { description: 'Offset mismatch' }, 413: problem, 422: problem } },
        delete: { summary: 'Terminate and remove an unfinished upload', responses: { 204: { description: 'Removed' }, 404: problem } },
      },
      '/notifications/dismiss-all': { post: { summary: 'Dismiss every notification', responses: { 200: { description: 'How many were dismissed', ...json({ type: 'object', properties: { dismissed: { type: 'integer' } } }) }, 401: problem } } },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Problem: { description: 'Problem details (RFC 9457)', content: { 'application/problem+json': { schema: ref('Problem') } } },
      },
      schemas: {
        ...webhookSchemas,
        Credentials: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string', minLength: 8 } } },
        Account: { type: 'object', properties: { id: { type: 'string' }, username: { type: 'string' } } },
        NewTokenRequest: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, expiresInDays: { type: 'integer', minimum: 1, maximum: 3650, description: 'Absent: never expires' }, readOnly: { type: 'boolean', default: false, description: 'Only GET/HEAD; anything else answers 403 read_only_token' } },
        },
        Token: {
          type: 'object',
          properties: { id: { type: 'string' }, name: { type: 'string' }, prefix: { type: 'string', description: "The token's first 10 characters ('' for tokens issued before prefixes were kept)" }, createdAt: { type: 'string', format: 'date-time' }, lastUsedAt: { type: ['string', 'null'], format: 'date-time', description: 'To the minute' }, expiresAt: { type: ['string', 'null'], format: 'date-time' }, expired: { type: 'boolean' }, readOnly: { type: 'boolean' } },
        },
        NewToken: { allOf: [ref('Token'), { type: 'object', properties: { token: { type: 'string', description: 'Shown only in this answer' } } }] },
        Problem: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, code: { type: 'string' }, instance: { type: 'string' } } },
        Preset: {
          type: 'object',
          properties: { id: { type: 'string' }, label: { type: 'string' }, container: { type: 'string' }, codec: { type: 'string' }, bitRate: { type: ['integer', 'null'] }, quality: { type: ['number', 'null'] }, sampleRate: { type: ['integer', 'null'] }, maxChannels: { type: 'integer' }, extension: { type: 'string' }, mimeType: { type: 'string' }, lossless: { type: 'boolean' }, default: { type: 'boolean' } },
        },
        Output: { type: 'object', properties: { preset: { type: 'string' }, label: { type: 'string' }, mimeType: { type: 'string' }, extension: { type: 'string' }, size: { type: 'integer' }, durationMs: { type: 'integer' }, bitRate: { type: 'integer' }, url: { type: 'string' } } },
        File: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            originalFilename: { type: 'string' },
            status: { enum: ['queued', 'running', 'completed', 'failed', 'canceled'] },
            progress: { type: 'integer', minimum: 0, maximum: 100 },
            error: { type: ['string', 'null'] },
            presets: { type: 'array', items: { type: 'string' } },
            input: { type: 'object', properties: { format: { type: 'string' }, codec: { type: 'string' }, size: { type: 'integer' }, durationMs: { type: 'integer' }, sampleRate: { type: 'integer' }, channels: { type: 'integer' } } },
            outputs: { type: 'array', items: ref('Output'), description: 'Only outputs that exist in full' },
            loudness: loudnessFileSchema,
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        Notification: { type: 'object', properties: { id: { type: 'string' }, kind: { enum: ['completed', 'failed'] }, message: { type: 'string' }, fileId: { type: ['string', 'null'] }, createdAt: { type: 'string' }, dismissedAt: { type: ['string', 'null'] } } },
      },
    },
  };
}
