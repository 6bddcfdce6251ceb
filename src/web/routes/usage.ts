import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import { usageOf } from '../../domain/quotas.ts';
import { requireApiUser } from '../auth.ts';
import { getUsageSchema } from '../schemas/usage.ts';

/** GET /api/v1/usage: what the upload page's bar shows, for programs. */
export function usageRoutes(app: WebContext) {
  const { deps } = app;
  return async (plain: FastifyInstance) => {
    const server = plain.withTypeProvider<TypeBoxTypeProvider>();
    server.addHook('preValidation', requireApiUser(deps));
    server.get('/usage', { schema: getUsageSchema }, async (request) => {
      const { storage, filesToday, queuedJobs, limits } = await usageOf(deps, request.userId);
      return { storage, filesToday, queuedJobs, limits };
    });
  };
}
