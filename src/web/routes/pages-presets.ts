import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { createUserPreset, deleteUserPreset, listPresetViews, updateUserPreset } from '../../domain/preset-catalog.ts';
import { MAX_USER_PRESETS, userCodecs } from '../../domain/user-presets.ts';
import { AppError } from '../../errors.ts';
import { requirePageUser } from '../auth.ts';
import { renderPage } from '../render.ts';

type PresetParams = { Params: { preset: string } };
type PresetForm = { Body: Record<string, unknown> | undefined };

const numberFields = ['sampleRate', 'channels', 'bitDepth', 'quality'] as const;

/**
 * Form fields arrive as text. '' means "not set" (null, so an edit clears it); numbers become
 * numbers; anything else goes on as it came so the domain's check refuses it with its message.
 * The form asks for kbit/s, which people read on every player; the API takes bit/s.
 */
function formInput(body: PresetForm['Body']): Record<string, unknown> {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : v);
  const asNumber = (v: unknown) => {
    const t = text(v);
    return t === '' || t === undefined ? null : typeof t === 'string' && /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
  };
  const input: Record<string, unknown> = { label: text(body?.label), codec: text(body?.codec) };
  for (const name of numberFields) input[name] = asNumber(body?.[name]);
  const kbit = asNumber(body?.bitRateKbps);
  input.bitRate = typeof kbit === 'number' ? Math.round(kbit * 1000) : kbit;
  return input;
}

/** "Presets": the user's own output presets, made, changed and deleted with plain forms. */
export function presetPages(app: WebContext) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    server.addHook('preHandler', requirePageUser(deps));

    const presetsPage = async (request: FastifyRequest, reply: FastifyReply, extra: { error?: string; errorFor?: string } = {}, status = 200) => {
      const all = await listPresetViews(deps, request.userId);
      return renderPage(deps, request, reply, 'presets', {
        title: 'Presets',
        own: all.filter((p) => p.own),
        builtIn: all.filter((p) => !p.own),
        codecs: userCodecs,
        maxPresets: MAX_USER_PRESETS,
        ...extra,
      }, status);
    };
    /** A refused form re-renders the page with the reason; anything else is the error page's. */
    const orShowError = (errorFor: string, action: (request: FastifyRequest<PresetForm & PresetParams>) => Promise<unknown>, flash: string) =>
      async (request: FastifyRequest<PresetForm & PresetParams>, reply: FastifyReply) => {
        try {
          await action(request);
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
          const field = typeof err.extra.field === 'string' ? ` (${err.extra.field})` : '';
          return presetsPage(request, reply, { error: `${err.detail}${field}`, errorFor }, err.status);
        }
        request.session.set('flash', flash);
        return reply.redirect('/presets', 303);
      };

    server.get('/presets', (request, reply) => presetsPage(request, reply));
    server.post<PresetForm & PresetParams>('/presets', { preHandler: server.csrfProtection },
      orShowError('new', (request) => createUserPreset(deps, request.userId, formInput(request.body)), 'The preset was saved. It is offered with the others when you upload.'));
    server.post<PresetForm & PresetParams>('/presets/:preset', { preHandler: server.csrfProtection },
      orShowError('edit', (request) => updateUserPreset(deps, request.userId, request.params.preset, formInput(request.body)), 'The preset was changed. Files made before keep what they were made with.'));
    server.post<PresetParams>('/presets/:preset/delete', { preHandler: server.csrfProtection }, async (request, reply) => {
      await deleteUserPreset(deps, request.userId, request.params.preset);
      request.session.set('flash', 'The preset was deleted. Outputs made with it stay downloadable.');
      return reply.redirect('/presets', 303);
    });
  };
}
