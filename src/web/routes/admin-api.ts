import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { cancelAnyJob, listFailures, listJobs, listWorkers, pauseQueue, resumeQueue } from '../../domain/admin-queue.ts';
import { deleteUser, disableUser, enableUser, listUsers, type Actor } from '../../domain/admin-users.ts';
import { requireApiAdmin } from '../auth.ts';
import {
  cancelJobSchema,
  deleteUserSchema,
  disableUserSchema,
  enableUserSchema,
  listFailuresSchema,
  listJobsSchema,
  listUsersSchema,
  listWorkersSchema,
  pauseQueueSchema,
  resumeQueueSchema,
  setLimitsSchema,
} from '../schemas/admin.ts';
import { setOverrides, usageOf } from '../../domain/quotas.ts';

const actorOf = (request: FastifyRequest): Actor => ({ id: request.userId, username: request.username });

/** /api/v1/admin/…: the admin area for programs. Schemas: ../schemas/admin.ts. */
export function adminApiRoutes(app: WebContext) {
  const { deps, queueAdmin, resumable } = app;
  return async (plain: FastifyInstance) => {
    const server = plain.withTypeProvider<TypeBoxTypeProvider>();
    // onRequest: before the body is parsed or checked, so no answer tells a stranger the route exists.
    server.addHook('onRequest', requireApiAdmin(deps));

    server.get('/admin/users', { schema: listUsersSchema }, async () => ({ users: await listUsers(deps) }));
    server.post('/admin/users/:id/disable', { schema: disableUserSchema }, (request) => disableUser(deps, actorOf(request), request.params.id));
    server.post('/admin/users/:id/enable', { schema: enableUserSchema }, (request) => enableUser(deps, actorOf(request), request.params.id));
    server.delete('/admin/users/:id', { schema: deleteUserSchema }, async (request, reply) => {
      await deleteUser(deps, actorOf(request), request.params.id, (id) => resumable.forget(id));
      return reply.status(204).send();
    });

    server.patch('/admin/users/:id/limits', { schema: setLimitsSchema }, async (request) => {
      await setOverrides(deps, request.params.id, request.body);
      request.log.info({ admin: request.username, userId: request.params.id, limits: request.body }, 'admin action: limits changed');
      return usageOf(deps, request.params.id);
    });
    server.get('/admin/jobs', { schema: listJobsSchema }, () => listJobs(deps, queueAdmin));
    server.post('/admin/jobs/:id/cancel', { schema: cancelJobSchema }, (request) => cancelAnyJob(deps, actorOf(request), request.params.id));
    server.post('/admin/queue/pause', { schema: pauseQueueSchema }, (request) => pauseQueue(deps, actorOf(request)));
    server.post('/admin/queue/resume', { schema: resumeQueueSchema }, (request) => resumeQueue(deps, queueAdmin, actorOf(request)));

    server.get('/admin/workers', { schema: listWorkersSchema }, async () => ({ workers: await listWorkers(deps, queueAdmin) }));
    server.get('/admin/failures', { schema: listFailuresSchema }, async () => ({ failures: await listFailures(deps) }));
  };
}
