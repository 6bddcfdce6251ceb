import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import { getMailSettings, updateMailSettings } from '../../domain/mail-settings.ts';
import { requireApiUser } from '../auth.ts';
import { getMailSettingsSchema, updateMailSettingsSchema } from '../schemas/mail.ts';

const fields = (body: unknown): Record<string, unknown> => (body && typeof body === 'object' && !Array.isArray(body) ? { ...body } : {});

/** /api/v1/settings/mail: the caller's address and opt-in for mail when a job ends. */
export function mailSettingsRoutes(app: WebContext) {
  const { deps } = app;
  return async (plain: FastifyInstance) => {
    const server = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Before validation: a caller without a token learns nothing about what a route accepts.
    server.addHook('preValidation', requireApiUser(deps));
    server.get('/settings/mail', { schema: getMailSettingsSchema }, (request) => getMailSettings(deps, request.userId));
    server.patch('/settings/mail', { schema: updateMailSettingsSchema }, (request) => updateMailSettings(deps, request.userId, fields(request.body)));
  };
}
