import contentDisposition from 'content-disposition';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { planFileArchive, planSelectionArchive, type ArchivePlan } from '../../domain/archive.ts';
import type { Deps } from '../../domain/ports.ts';
import { requireApiUser, requirePageUser } from '../auth.ts';
import { fileArchiveSchema, selectionArchiveSchema } from '../schemas/zip.ts';
import { zipStream } from '../zip-stream.ts';

type IdParams = { Params: { id: string } };
type Selection = { Body: { ids?: unknown } | undefined };

/** Streams the plan's outputs from the blob store, one after another, as a single ZIP. */
function sendArchive(deps: Pick<Deps, 'blobs'>, request: FastifyRequest, reply: FastifyReply, plan: ArchivePlan) {
  const zip = zipStream(plan.items.map((item) => ({ ...item, open: () => deps.blobs.get(item.blobKey) })));
  reply.header('Content-Type', 'application/zip');
  reply.header('Content-Disposition', contentDisposition(plan.filename));
  reply.header('Content-Length', zip.size);
  reply.header('Cache-Control', 'private, no-store');
  if (request.method === 'HEAD') {
    zip.stream.destroy();
    return reply.send();
  }
  return reply.send(zip.stream);
}

/**
 * Everything in one download: all finished outputs of a file, or of chosen files (one folder
 * each), as a ZIP. For programs (bearer token, read-only tokens too; registered in the /api/v1
 * scope so the description includes them) and for the pages (session; the selection is a
 * CSRF-checked form that works without JavaScript).
 */
export function zipApiRoutes(app: WebContext) {
  const { deps } = app;
  return async (api: FastifyInstance) => {
    // Before validation, as on every API route: no token, no description of what is wanted.
    api.get<IdParams>('/files/:id/outputs.zip', { schema: fileArchiveSchema, preValidation: requireApiUser(deps) }, async (request, reply) =>
      sendArchive(deps, request, reply, await planFileArchive(deps, request.userId, request.params.id)),
    );
    api.post<Selection>('/zip', { schema: selectionArchiveSchema, preValidation: requireApiUser(deps, { readsOnly: true }) }, async (request, reply) =>
      sendArchive(deps, request, reply, await planSelectionArchive(deps, request.userId, request.body?.ids)),
    );
  };
}

export function zipPages(app: WebContext) {
  const { deps } = app;
  return async (pages: FastifyInstance) => {
    pages.addHook('preHandler', requirePageUser(deps));
    pages.get<IdParams>('/files/:id/outputs.zip', async (request, reply) =>
      sendArchive(deps, request, reply, await planFileArchive(deps, request.userId, request.params.id)),
    );
    pages.post<Selection>('/files/zip', { preHandler: pages.csrfProtection }, async (request, reply) =>
      sendArchive(deps, request, reply, await planSelectionArchive(deps, request.userId, request.body?.ids)),
    );
  };
}
