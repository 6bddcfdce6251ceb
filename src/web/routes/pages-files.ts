import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import { cancelFile, deleteFile, getFile, retryFile } from '../../domain/files.ts';
import { deleteFiles, retryFiles } from '../../domain/file-bulk.ts';
import { decodeCursor, FILE_STATUSES, listFilesPage, parseStatus } from '../../domain/file-list.ts';
import { pageQueryOf, pagerLinks, plural } from '../file-pager.ts';
import { AppError } from '../../errors.ts';
import { defaultPresetIds } from '../../media/presets.ts';
import { addOutputs } from '../../domain/more-outputs.ts';
import { listPresetViews } from '../../domain/preset-catalog.ts';
import { requirePageUser } from '../auth.ts';
import { sendOutput } from '../download.ts';
import { waveformSvg } from '../../media/waveform.ts';
import { renderPage } from '../render.ts';
import { receiveUpload } from '../upload.ts';
import { usageContext } from '../usage-view.ts';

type IdParams = { Params: { id: string } };

export function filePages(app: WebContext) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    server.addHook('preHandler', requirePageUser(deps));

    const filesPage = async (request: Parameters<typeof renderPage>[1], reply: Parameters<typeof renderPage>[2], extra: { error?: string } = {}, status = 200) => {
      const query = pageQueryOf(request.query);
      const filter = parseStatus(query.status);
      const page = await listFilesPage(deps, request.userId, { status: filter, before: decodeCursor(query.before), after: decodeCursor(query.after, 'after') });
      return renderPage(deps, request, reply, 'files', {
        title: 'Your files',
        files: page.files,
        filter: filter ?? null,
        statuses: FILE_STATUSES,
        pager: pagerLinks(filter, page),
        firstPage: page.previous === null,
        // Built-in presets, then the user's own: the same list GET /api/v1/presets gives them.
        presets: await listPresetViews(deps, request.userId),
        defaultPresetIds,
        ...(await usageContext(deps, request.userId)),
        ...extra,
      }, status);
    };

    server.get('/files', (request, reply) => filesPage(request, reply));

    // The selection form's other buttons: the same checkboxes as the ZIP download, other actions.
    const bulk = (path: string, run: (userId: string, ids: unknown) => Promise<string>) =>
      server.post<{ Body: { ids?: unknown; status?: unknown } | undefined }>(path, { preHandler: server.csrfProtection }, async (request, reply) => {
        request.session.set('flash', await run(request.userId, request.body?.ids));
        const back = typeof request.body?.status === 'string' && FILE_STATUSES.some((s) => s === request.body?.status) ? `?status=${request.body.status}` : '';
        return reply.redirect(`/files${back}`, 303);
      });
    bulk('/files/delete', async (userId, ids) => {
      const { deleted } = await deleteFiles(deps, userId, ids);
      return `${plural(deleted.length, 'file')} deleted with ${deleted.length === 1 ? 'its' : 'their'} outputs.`;
    });
    bulk('/files/retry', async (userId, ids) => {
      const { retried, skipped } = await retryFiles(deps, userId, ids);
      const left = skipped.length > 0 ? ` ${plural(skipped.length, 'file')} left alone (only failed or canceled jobs are retried).` : '';
      return `${plural(retried.length, 'file')} queued again.${left}`;
    });

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
      // Built-in and own presets, for the form that makes more outputs.
      const choices = await listPresetViews(deps, request.userId);
      return renderPage(deps, request, reply, 'file', { title: file.name, file, presets: choices, waveformSvg: waveformSvg(file.waveform ?? []) });
    });

    const action = (path: string, run: typeof cancelFile, flash: string) =>
      server.post<IdParams>(path, { preHandler: server.csrfProtection }, async (request, reply) => {
        await run(deps, request.userId, request.params.id);
        request.session.set('flash', flash);
        return reply.redirect(`/files/${request.params.id}`, 303);
      });
    action('/files/:id/cancel', cancelFile, 'The job was canceled.');
    action('/files/:id/retry', retryFile, 'The job is queued again.');

    // A refusal (no preset chosen, a job still running) comes back to the page as its message.
    server.post<IdParams & { Body: { presets?: unknown } | undefined }>('/files/:id/outputs', { preHandler: server.csrfProtection }, async (request, reply) => {
      try {
        const view = await addOutputs(deps, request.userId, request.params.id, request.body?.presets);
        request.session.set('flash', `Making ${plural(view.producing?.length ?? 0, 'output')}; the others stay as they are.`);
      } catch (err) {
        if (!(err instanceof AppError) || err.status === 404) throw err;
        request.session.set('flash', err.detail);
      }
      return reply.redirect(`/files/${request.params.id}`, 303);
    });

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
