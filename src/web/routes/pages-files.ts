import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import { cancelFile, deleteFile, getFile, listFiles, retryFile } from '../../domain/files.ts';
import { AppError } from '../../errors.ts';
import { defaultPresetIds, presets } from '../../media/presets.ts';
import { listPresetViews } from '../../domain/preset-catalog.ts';
import { requirePageUser } from '../auth.ts';
import { sendOutput } from '../download.ts';
import { waveformSvg } from '../../media/waveform.ts';
import { renderPage } from '../render.ts';
import { receiveUpload } from '../upload.ts';

type IdParams = { Params: { id: string } };

export function filePages(app: WebContext) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    server.addHook('preHandler', requirePageUser(deps));

    const filesPage = async (request: Parameters<typeof renderPage>[1], reply: Parameters<typeof renderPage>[2], extra: { error?: string } = {}, status = 200) =>
      renderPage(deps, request, reply, 'files', {
        title: 'Your files',
        files: await listFiles(deps, request.userId),
        // Built-in presets, then the user's own: the same list GET /api/v1/presets gives them.
        presets: await listPresetViews(deps, request.userId),
        defaultPresetIds,
        maxUploadBytes: deps.config.maxUploadBytes,
        ...extra,
      }, status);

    server.get('/files', (request, reply) => filesPage(request, reply));

    server.post('/files', { preHandler: server.csrfProtection }, async (request, reply) => {
      try {
        const file = await receiveUpload(deps, request, request.userId);
        if (request.headers.accept?.includes('application/json')) return reply.status(201).send({ id: file.id, url: `/files/${file.id}` });
        return reply.redirect(`/files/${file.id}`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || request.headers.accept?.includes('application/json')) throw err;
        return filesPage(request, reply, { error: err.detail }, err.status);
      }
    });

    server.get<IdParams>('/files/:id', async (request, reply) => {
      const file = await getFile(deps, request.userId, request.params.id);
      return renderPage(deps, request, reply, 'file', { title: file.name, file, presets, waveformSvg: waveformSvg(file.waveform ?? []) });
    });

    const action = (path: string, run: typeof cancelFile, flash: string) =>
      server.post<IdParams>(path, { preHandler: server.csrfProtection }, async (request, reply) => {
        await run(deps, request.userId, request.params.id);
        request.session.set('flash', flash);
        return reply.redirect(`/files/${request.params.id}`, 303);
      });
    action('/files/:id/cancel', cancelFile, 'The job was canceled.');
    action('/files/:id/retry', retryFile, 'The job is queued again.');

    server.post<IdParams>('/files/:id/delete', { preHandler: server.csrfProtection }, async (request, reply) => {
      await deleteFile(deps, request.userId, request.params.id);
      request.session.set('flash', 'The file and its outputs were deleted.');
      return reply.redirect('/files', 303);
    });

    server.get<{ Params: { id: string; preset: string }; Querystring: { inline?: string } }>(
      '/files/:id/outputs/:preset',
      (request, reply) => sendOutput(deps, request, reply, request.userId),
    );
  };
}
