import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { cancelAnyJob, listFailures, listJobs, listWorkers, pauseQueue, resumeQueue } from '../../domain/admin-queue.ts';
import { deleteUser, disableUser, enableUser, listUsers, type Actor } from '../../domain/admin-users.ts';
import { AppError } from '../../errors.ts';
import { requirePageAdmin } from '../auth.ts';
import { renderPage } from '../render.ts';
import { adminUserPages } from './pages-admin-user.ts';

type IdParams = { Params: { id: string } };

const actorOf = (request: FastifyRequest): Actor => ({ id: request.userId, username: request.username });

/**
 * /admin: accounts, the queue, workers and failures, with plain CSRF-checked forms that work
 * without JavaScript. Anyone but an enabled administrator gets the site's 404 page.
 */
export function adminPages(app: WebContext) {
  const { deps, queueAdmin, resumable } = app;
  return async (server: FastifyInstance) => {
    // onRequest: before CSRF and body parsing, so a non-admin's request is a plain 404 whatever it carries.
    // (A hook of this plugin runs for this plugin's routes only.)
    server.addHook('onRequest', requirePageAdmin(deps));

    server.get('/admin', async (request, reply) => {
      const [users, jobs, workers, failures] = await Promise.all([listUsers(deps), listJobs(deps, queueAdmin), listWorkers(deps, queueAdmin), listFailures(deps)]);
      return renderPage(deps, request, reply, 'admin', { title: 'Admin', users, jobs, workers, failures, me: request.userId });
    });

    /** Runs an admin action, then back to the page with what happened (or why not) as a flash. */
    const act = (action: (request: FastifyRequest<IdParams>) => Promise<string>) => async (request: FastifyRequest<IdParams>, reply: FastifyReply) => {
      try {
        request.session.set('flash', await action(request));
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 409) throw err;
        request.session.set('flash', err.detail);
      }
      return reply.redirect('/admin', 303);
    };
    const csrf = { preHandler: server.csrfProtection };

    server.post<IdParams>('/admin/users/:id/disable', csrf, act(async (r) => `${(await disableUser(deps, actorOf(r), r.params.id)).username} is disabled: signed out everywhere, tokens refused.`));
    server.post<IdParams>('/admin/users/:id/enable', csrf, act(async (r) => `${(await enableUser(deps, actorOf(r), r.params.id)).username} is enabled again.`));
    server.post<IdParams>('/admin/users/:id/delete', csrf, act(async (r) => {
      const done = await deleteUser(deps, actorOf(r), r.params.id, (id) => resumable.forget(id));
      return `The account was deleted with its ${done.files} file(s) and everything else it owned.`;
    }));
    server.post<IdParams>('/admin/jobs/:id/cancel', csrf, act(async (r) => `Canceled ${(await cancelAnyJob(deps, actorOf(r), r.params.id)).name}.`));
    server.post<IdParams>('/admin/queue/pause', csrf, act(async (r) => (await pauseQueue(deps, actorOf(r)), 'Claiming is paused on every worker: running jobs finish, queued ones wait.')));
    server.post<IdParams>('/admin/queue/resume', csrf, act(async (r) => (await resumeQueue(deps, queueAdmin, actorOf(r)), 'Claiming resumed.')));
    // One account's page and its limits form; a child plugin, so the 404 hook above covers it.
    await server.register(adminUserPages(app));
  };
}
