import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import { getRetentionSetting, setRetentionSetting } from '../../domain/retention-settings.ts';
import { requireApiUser } from '../auth.ts';
import { getRetentionSchema, putRetentionSchema } from '../schemas/retention.ts';

/** The body's `days`, checked by the schema and again by the domain (which also caps it). */
const daysOf = (body: unknown): unknown => (body && typeof body === 'object' && 'days' in body ? body.days : undefined);

/** The caller's retention choice under /api/v1/settings/retention. */
export function retentionRoutes(app: WebContext) {
  const { deps } = app;
  return async (plain: FastifyInstance) => {
    const server = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Before validation: a caller without a token learns nothing about what a route accepts.
    server.addHook('preValidation', requireApiUser(deps));
    server.get('/settings/retention', { schema: getRetentionSchema }, (request) => getRetentionSetting(deps, request.userId));
    server.put('/settings/retention', { schema: putRetentionSchema }, (request) => setRetentionSetting(deps, request.userId, daysOf(request.body)));
  };
}
