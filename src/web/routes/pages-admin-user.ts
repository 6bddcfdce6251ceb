import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { userView } from '../../domain/admin-users.ts';
import { clearOverrides, effectiveLimits, setOverrides, usageOf } from '../../domain/quotas.ts';
import { limitFields, limitInForce, limitText, readLimitForm, type LimitKey } from '../limit-form.ts';
import { renderPage } from '../render.ts';
import { usagePageContext } from '../usage-view.ts';

type IdParams = { Params: { id: string } };

/**
 * /admin/users/:id: one account's usage and the form that sets or clears each of its limits.
 * Registered inside the admin pages' plugin, whose onRequest hook answers 404 to anyone but an
 * enabled administrator before any of this runs.
 */
export function adminUserPages(app: WebContext) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    /** The page; after a refused save, with what was typed and why each wrong field is wrong. */
    const userPage = async (request: FastifyRequest<IdParams>, reply: FastifyReply, typed?: Record<string, unknown>, errors: Partial<Record<LimitKey, string>> = {}) => {
      const account = await userView(deps, request.params.id);
      const usage = await usageOf(deps, account.id);
      // What an empty field gives: the settings alone.
      const defaults = effectiveLimits(deps.config, { quotaBytes: null, queuedJobs: null, filesPerDay: null, maxUploadBytes: null, maxInputSeconds: null, maxOutputBytes: null });
      const fields = limitFields.map((field) => {
        const sent = typed?.[field.key];
        return {
          ...field,
          value: typeof sent === 'string' ? sent : limitText(field, usage.overrides[field.key]),
          overridden: usage.overrides[field.key] !== null,
          inForce: limitInForce(field, usage.limits),
          fallback: limitInForce(field, defaults),
          error: errors[field.key],
        };
      });
      const status = Object.keys(errors).length > 0 ? 422 : 200;
      return renderPage(deps, request, reply, 'admin-user', { title: `${account.username} · Admin`, account, ...usagePageContext(usage), fields, me: request.userId }, status);
    };

    server.get<IdParams>('/admin/users/:id', (request, reply) => userPage(request, reply));

    const csrf = { preHandler: server.csrfProtection };
    server.post<IdParams & { Body: unknown }>('/admin/users/:id/limits', csrf, async (request, reply) => {
      const { patch, errors } = readLimitForm(request.body);
      if (Object.keys(errors).length > 0) return userPage(request, reply, request.body as Record<string, unknown>, errors);
      const account = await userView(deps, request.params.id);
      await setOverrides(deps, account.id, patch);
      request.log.info({ admin: request.username, userId: account.id, limits: patch }, 'admin action: limits changed');
      request.session.set('flash', `Limits of ${account.username} saved.`);
      return reply.redirect(`/admin/users/${account.id}`, 303);
    });

    server.post<IdParams>('/admin/users/:id/limits/clear', csrf, async (request, reply) => {
      const account = await userView(deps, request.params.id);
      await clearOverrides(deps, account.id);
      request.log.info({ admin: request.username, userId: account.id }, 'admin action: limits cleared');
      request.session.set('flash', `Every limit of ${account.username} is back to the server's default.`);
      return reply.redirect(`/admin/users/${account.id}`, 303);
    });
  };
}
