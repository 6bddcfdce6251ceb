import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EVENTS, Server as TusServer, type Upload } from '@tus/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebContext } from './context.ts';
import type { Deps } from '../domain/ports.ts';
import { acceptUpload, discard, storeUploadBody, storeUploadFile } from '../domain/uploads.ts';
import type { LocalCopy } from '../domain/upload-copy.ts';
import { parseLoudnessOption, pickLoudnessFields } from '../domain/loudness.ts';
import { admitUpload, releaseUpload, RESUMABLE_RESERVATION_MS } from '../domain/upload-admission.ts';
import { parseTrim, pickTrimFields } from '../domain/trim.ts';
import { AppError, titleFor } from '../errors.ts';
import type { ResumableBackend } from '../uploads/resumable-store.ts';
import { activeUser, requireApiUser } from './auth.ts';
import { requestIdOfRaw } from './request-id.ts';
import {
  appendUploadSchema, createUploadSchema, readUploadSchema, terminateUploadSchema, uploadOffsetSchema, uploadOptionsSchema,
} from './schemas/uploads.ts';

/** Routes live in the /api/v1 scope; tus matches ids against the full path. */
const RELATIVE_PATH = '/uploads';
const PATH = `/api/v1${RELATIVE_PATH}`;
/** Who each request authenticated as, keyed by Node's request, which tus's hooks can reach. */
const authenticatedUser = new WeakMap<IncomingMessage, string>();
type TusRequest = { runtime?: { node?: { req?: IncomingMessage } } };
const rawOf = (req: unknown) => (req as TusRequest).runtime?.node?.req;
const userOf = (req: unknown) => {
  const raw = rawOf(req);
  return (raw && authenticatedUser.get(raw)) ?? '';
};
/** The id a creation request was admitted under (its quota reservation), for tus's naming function. */
const admittedId = new WeakMap<IncomingMessage, string>();
const MAX_OPEN_UPLOADS = 5;
const uploadIdPattern = /^[0-9a-f]{32}$/;

/** tus hooks answer errors as {status_code, body}; ours carry a problem+json body. */
const tusError = (req: unknown, status: number, code: string, detail: string, extra: Record<string, unknown> = {}) => ({
  status_code: status,
  body: JSON.stringify({ ...extra, type: 'about:blank', title: titleFor(status), status, detail, code, requestId: requestIdOfRaw(rawOf(req)) }),
});

/** Turns a finished tus upload into a file: the same probe → row → job path as multipart. */
async function finish(deps: Deps, backend: ResumableBackend, req: unknown, upload: Upload) {
  const userId = userOf(req);
  const meta = upload.metadata ?? {};
  try {
    // A finished upload on this disk is moved into storage, not read and written again.
    const stored: { fileId: string; size: number; localCopy?: LocalCopy } = backend.localPath
      ? await storeUploadFile(deps, backend.localPath(upload.id))
      : await storeUploadBody(deps, await backend.datastore.read(upload.id));
    try {
      const file = await acceptUpload(deps, {
        userId, fileId: stored.fileId, size: stored.size, originalFilename: meta.filename ?? 'upload', name: meta.name ?? undefined, presets: meta.presets ?? undefined,
        loudness: pickLoudnessFields((key) => meta[key] ?? undefined),
        reservationId: upload.id,
        trim: pickTrimFields((key) => meta[key] ?? undefined),
        ...(stored.localCopy ? { localCopy: stored.localCopy } : {}),
      });
      return { headers: { 'Reprise-File-Id': file.id, 'Reprise-File-Url': `/api/v1/files/${file.id}` } };
    } catch (err) {
      await discard(deps, stored.fileId);
      throw err;
    } finally {
      await stored.localCopy?.release();
    }
  } catch (err) {
    if (err instanceof AppError) throw tusError(req, err.status, err.code, err.detail, err.extra);
    deps.log.error({ err, uploadId: upload.id }, 'finishing a resumable upload failed');
    throw tusError(req, 500, 'internal', 'Something went wrong on our side. It has been logged.');
  } finally {
    // Settled with the file row when accepted; a refused upload gives its bytes back.
    await releaseUpload(deps, upload.id);
    await deps.store.resumableUploads.remove(upload.id);
    await backend.forget(upload.id).catch((err: unknown) => deps.log.warn({ err, uploadId: upload.id }, 'could not remove a finished upload'));
  }
}

function createTus(deps: Deps, backend: ResumableBackend): TusServer {
  const tus = new TusServer({
    path: PATH,
    datastore: backend.datastore,
    ...(backend.locker ? { locker: backend.locker } : {}),
    // An upload may not grow past what its reservation holds: the declared Upload-Length, or
    // with a deferred length what the owner's storage had left when it was created.
    maxSize: async (_req, id) => (id ? await deps.store.quotas.openBytes(id) : undefined) ?? deps.config.maxUploadBytes,
    relativeLocation: true,
    exposedHeaders: ['Reprise-File-Id', 'Reprise-File-Url'],
    namingFunction: (req) => {
      const raw = rawOf(req);
      return (raw && admittedId.get(raw)) ?? randomUUID().replace(/-/g, '');
    },
    // Every request about an existing upload must come from its owner; anyone else sees nothing.
    async onIncomingRequest(req, id) {
      if (req.method === 'POST') return;
      if ((await deps.store.resumableUploads.ownerOf(id)) !== userOf(req)) throw tusError(req, 404, 'not_found', 'No such upload.');
    },
    async onUploadCreate(req, upload) {
      const userId = userOf(req);
      if (!userId) throw tusError(req, 401, 'unauthenticated', 'Sign in, or send an API token.');
      const filename = upload.metadata?.filename;
      if (!filename) throw tusError(req, 400, 'missing_filename', 'Upload-Metadata must carry a filename.');
      // A bad loudness option or trim is refused before any byte is sent, not after the last one.
      try {
        parseLoudnessOption(pickLoudnessFields((key) => upload.metadata?.[key] ?? undefined));
        parseTrim(pickTrimFields((key) => upload.metadata?.[key] ?? undefined));
      } catch (err) {
        if (err instanceof AppError) throw tusError(req, err.status, err.code, err.detail, err.extra);
        throw err;
      }
      if ((await deps.store.resumableUploads.countForUser(userId)) >= MAX_OPEN_UPLOADS) {
        throw tusError(req, 429, 'too_many_uploads', `At most ${MAX_OPEN_UPLOADS} unfinished uploads at once: finish or delete one first.`);
      }
      await deps.store.resumableUploads.insert({ id: upload.id, user_id: userId, size: upload.size ?? null, created_at: deps.now() });
      return {};
    },
    onUploadFinish: (req, upload) => finish(deps, backend, req, upload),
    // tus answers storage failures with a bare 500; keep what went wrong in our log.
    onResponseError(_req, err) {
      if (err instanceof Error) deps.log.error({ err }, 'resumable upload request failed');
      return undefined;
    },
  });
  // A terminated upload no longer counts against its owner.
  tus.on(EVENTS.POST_TERMINATE, (_req: unknown, _res: unknown, id: string) => {
    deps.store.resumableUploads.remove(id).catch((err: unknown) => deps.log.warn({ err, uploadId: id }, 'could not forget a terminated upload'));
    void releaseUpload(deps, id);
  });
  return tus;
}

/**
 * tus 1.0 at /api/v1/uploads, registered in the /api/v1 scope (creation, creation-with-upload, termination, expiration). Bearer
 * tokens as on the rest of the API; a browser session works too, with its CSRF token in the
 * x-csrf-token header for anything that changes state.
 */
export function resumableUploadRoutes(app: WebContext, backend: ResumableBackend) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    const tus = createTus(deps, backend);
    const apiUser = requireApiUser(deps);
    // tus bodies are read by tus itself, as a stream.
    server.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));

    const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.method === 'OPTIONS') return;
      if (request.headers.authorization) return apiUser(request);
      const userId = request.session.get('userId');
      if (!userId || !(await activeUser(deps, userId))) throw new AppError('unauthenticated', 401, 'Sign in, or send an API token.');
      request.userId = userId;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        await new Promise<void>((resolve, reject) => {
          server.csrfProtection.call(server, request, reply, (err?: Error) => (err ? reject(err) : resolve()));
        });
      }
    };

    const handle = async (request: FastifyRequest<{ Params: { uploadId?: string } }>, reply: FastifyReply) => {
      const id = request.params.uploadId;
      if (id !== undefined && !uploadIdPattern.test(id)) throw new AppError('not_found', 404, 'No such upload.');
      if (request.userId) authenticatedUser.set(request.raw, request.userId);
      const admitted = request.method === 'POST' && request.userId ? await admitCreation(request) : undefined;
      reply.hijack();
      try {
        await tus.handle(request.raw, reply.raw);
      } finally {
        // A creation tus refused (bad metadata, too many open uploads) leaves no upload: nor any reservation.
        if (admitted && !(await deps.store.resumableUploads.ownerOf(admitted))) await releaseUpload(deps, admitted);
      }
    };

    /**
     * Checks a new upload against its owner's limits and reserves its declared Upload-Length
     * before tus stores anything; a refusal is problem+json with the limit, usage and quota.
     */
    const admitCreation = async (request: FastifyRequest): Promise<string> => {
      const length = request.headers['upload-length'];
      const declared = typeof length === 'string' && /^\d{1,16}$/.test(length) ? Number(length) : undefined;
      const id = randomUUID().replace(/-/g, '');
      await admitUpload(deps, request.userId, { id, declaredBytes: declared, ttlMs: RESUMABLE_RESERVATION_MS });
      admittedId.set(request.raw, id);
      return id;
    };

    // tus reads the headers and the body stream itself: the schemas document the protocol and
    // are not enforced (an id that is not ours is refused in `handle`, as 404).
    const route = { preValidation: authenticate, handler: handle, validatorCompiler: () => () => true };
    const one = `${RELATIVE_PATH}/:uploadId`;
    server.route({ ...route, method: 'POST', url: RELATIVE_PATH, schema: createUploadSchema });
    server.route({ ...route, method: 'OPTIONS', url: RELATIVE_PATH, schema: uploadOptionsSchema('creation') });
    server.route({ ...route, method: 'HEAD', url: one, schema: uploadOffsetSchema, config: { swagger: { exposeHeadRoute: true } } });
    server.route({ ...route, method: 'GET', url: one, schema: readUploadSchema, exposeHeadRoute: false });
    server.route({ ...route, method: 'PATCH', url: one, schema: appendUploadSchema });
    server.route({ ...route, method: 'DELETE', url: one, schema: terminateUploadSchema });
    server.route({ ...route, method: 'OPTIONS', url: one, schema: uploadOptionsSchema('an upload') });
  };
}
