import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { createUserPreset, deleteUserPreset, getPresetView, listPresetViews, updateUserPreset } from '../../domain/preset-catalog.ts';
import { requireApiUser } from '../auth.ts';
import { createPresetSchema, deletePresetSchema, getPresetSchema, listPresetsSchema, updatePresetSchema } from '../schemas/presets.ts';

const fields = (body: unknown): Record<string, unknown> => (body && typeof body === 'object' && !Array.isArray(body) ? { ...body } : {});

/** Output presets under /api/v1/presets: the built-in ones for anyone, one's own for their owner. */
export function presetRoutes(app: WebContext) {
  const { deps } = app;
  const authenticate = requireApiUser(deps);
  /** Anonymous callers still list the built-in presets; a token or session adds the caller's own. */
  const optionalUser = async (request: FastifyRequest): Promise<string | undefined> => {
    if (request.headers.authorization === undefined && !request.session.get('userId')) return undefined;
    await authenticate(request);
    return request.userId;
  };
  return async (plain: FastifyInstance) => {
    const open = plain.withTypeProvider<TypeBoxTypeProvider>();
    open.get('/presets', { schema: listPresetsSchema }, async (request) => ({ presets: await listPresetViews(deps, await optionalUser(request)) }));

    await plain.register(async (plainAuthed) => {
      const server = plainAuthed.withTypeProvider<TypeBoxTypeProvider>();
      // Before validation: a caller without a token learns nothing about what a route accepts.
      server.addHook('preValidation', authenticate);
      server.get('/presets/:preset', { schema: getPresetSchema }, (request) => getPresetView(deps, request.userId, request.params.preset));
      server.post('/presets', { schema: createPresetSchema }, async (request, reply) => {
        const created = await createUserPreset(deps, request.userId, fields(request.body));
        return reply.status(201).header('Location', `/api/v1/presets/${created.id}`).send(created);
      });
      server.patch('/presets/:preset', { schema: updatePresetSchema }, (request) =>
        updateUserPreset(deps, request.userId, request.params.preset, fields(request.body)));
      server.delete('/presets/:preset', { schema: deletePresetSchema }, async (request, reply) => {
        await deleteUserPreset(deps, request.userId, request.params.preset);
        return reply.status(204).send();
      });
    });
  };
}
