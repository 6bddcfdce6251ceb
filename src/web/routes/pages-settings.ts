import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { createToken, listTokens, MAX_NAME_LENGTH, revokeToken, type NewToken, type TokenView } from '../../domain/tokens.ts';
import { listEndpoints } from '../../domain/webhooks.ts';
import { getMailSettings } from '../../domain/mail-settings.ts';
import { getRetentionSetting, setRetentionSetting } from '../../domain/retention-settings.ts';
import { AppError } from '../../errors.ts';
import { requirePageUser } from '../auth.ts';
import { renderPage } from '../render.ts';
import { addMailPages, type MailExtra } from './pages-mail.ts';
import { usageContext } from '../usage-view.ts';
import { addWebhookPages, endpointRow, eventChoices, hookFormValues, type HookExtra } from './pages-webhooks.ts';

type IdParams = { Params: { id: string } };
type TokenForm = { Body: { name?: unknown; expiresInDays?: unknown; readOnly?: unknown } | undefined };

/** The expiry choices the form offers; the API takes any whole number of days up to 3650. */
export const expiryChoices = [
  { value: '', label: 'Never' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
];

const wantsJson = (request: FastifyRequest) => request.headers.accept?.includes('application/json') ?? false;

// The server does not know the reader's time zone, so dates say UTC; <time> carries the instant.
const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const when = (iso: string | null, format: Intl.DateTimeFormat) => (iso ? { iso, text: format.format(new Date(iso)) } : null);

function tokenRow(t: TokenView) {
  return {
    ...t,
    created: when(t.createdAt, dateFormat),
    lastUsed: when(t.lastUsedAt, dateTimeFormat),
    expires: when(t.expiresAt, dateFormat),
  };
}

/**
 * Form fields arrive as text: '' is "never", digits are days; anything else is passed on as it
 * came so that the domain's check refuses it with its own message. A checkbox is on when present.
 */
function formInput(body: TokenForm['Body']) {
  const days = body?.expiresInDays;
  return {
    name: body?.name,
    expiresInDays: days === undefined || days === '' ? undefined : typeof days === 'string' && /^\d{1,5}$/.test(days) ? Number(days) : days,
    readOnly: body?.readOnly !== undefined,
  };
}

/** What the form showed, to fill it in again after a refusal. */
function formValues(body: TokenForm['Body']) {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return { name: text(body?.name), expiresInDays: text(body?.expiresInDays), readOnly: body?.readOnly !== undefined };
}

/** Settings: the signed-in user's API tokens, webhook endpoints and mail, managed with plain forms. */
export function settingsPages(app: WebContext) {
  const { deps } = app;
  return async (server: FastifyInstance) => {
    server.addHook('preHandler', requirePageUser(deps));

    const settingsPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      extra: { created?: NewToken; error?: string; form?: ReturnType<typeof formValues>; hook?: HookExtra; mail?: MailExtra; retentionError?: string } = {},
      status = 200,
    ) =>
      renderPage(deps, request, reply, 'settings', {
        title: 'Settings',
        tokens: (await listTokens(deps, request.userId)).map(tokenRow),
        expiryChoices,
        maxNameLength: MAX_NAME_LENGTH,
        created: extra.created ? tokenRow(extra.created) : undefined,
        createdToken: extra.created?.token,
        error: extra.error,
        form: extra.form ?? formValues(undefined),
        webhooks: (await listEndpoints(deps, request.userId)).map(endpointRow),
        eventChoices,
        hook: { ...extra.hook, form: extra.hook?.form ?? hookFormValues(undefined) },
        mail: await mailSection(request.userId, extra.mail),
        retention: await getRetentionSetting(deps, request.userId),
        retentionError: extra.retentionError,
        ...(await usageContext(deps, request.userId)),
      }, status);

    const mailSection = async (userId: string, extra: MailExtra | undefined) => {
      const saved = await getMailSettings(deps, userId);
      return { ...saved, error: extra?.error, form: extra?.form ?? { email: saved.email ?? '', onJobEnd: saved.onJobEnd } };
    };

    // In this plugin, so the sign-in hook above guards them and a refused add re-renders this page.
    addWebhookPages(server, deps, settingsPage);
    addMailPages(server, deps, settingsPage);

    server.get('/settings', (request, reply) => settingsPage(request, reply));
    // The page after creating a token has this address; reloading it, or a dismiss form on it
    // sending the browser "back", should land on the settings page, not a 404.
    server.get('/settings/tokens', (_request, reply) => reply.redirect('/settings', 303));

    server.post<TokenForm>('/settings/tokens', { preHandler: server.csrfProtection }, async (request, reply) => {
      try {
        const created = await createToken(deps, request.userId, formInput(request.body));
        if (wantsJson(request)) return reply.status(201).send(created);
        // The token is shown in this answer only, never stored, so it must not be cached either.
        reply.header('Cache-Control', 'no-store');
        return await settingsPage(request, reply, { created });
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || wantsJson(request)) throw err;
        return settingsPage(request, reply, { error: err.detail, form: formValues(request.body) }, err.status);
      }
    });

    // '' (the "server's setting" choice) is null; digits are days; anything else reaches the domain's check as text.
    server.post<{ Body: { days?: unknown } | undefined }>('/settings/retention', { preHandler: server.csrfProtection }, async (request, reply) => {
      const days = request.body?.days;
      try {
        const saved = await setRetentionSetting(deps, request.userId, days === '' ? null : days);
        if (wantsJson(request)) return reply.send(saved);
        request.session.set('flash', saved.effectiveDays === null ? 'Your files are kept until you delete them.' : `Your files are kept ${saved.effectiveDays} days after upload.`);
        return reply.redirect('/settings#retention', 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || wantsJson(request)) throw err;
        return settingsPage(request, reply, { retentionError: err.detail }, err.status);
      }
    });

    server.post<IdParams>('/settings/tokens/:id/revoke', { preHandler: server.csrfProtection }, async (request, reply) => {
      await revokeToken(deps, request.userId, request.params.id);
      if (wantsJson(request)) return reply.status(204).send();
      request.session.set('flash', 'The token was revoked. Programs using it can no longer sign in with it.');
      return reply.redirect('/settings', 303);
    });
  };
}
