import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../domain/ports.ts';
import type { WebhookEventType } from '../../domain/webhook-events.ts';
import {
  createEndpoint, deleteEndpoint, getEndpoint, listDeliveries, replayDelivery, rotateSecret, sendTest, updateEndpoint,
  type toDeliveryView, type WebhookEndpointView,
} from '../../domain/webhooks.ts';
import { AppError } from '../../errors.ts';
import { renderPage } from '../render.ts';

type IdParams = { Params: { id: string } };
type ActParams = { Params: { id: string; deliveryId?: string } };
type HookBody = { url?: unknown; description?: unknown; events?: unknown } | undefined;
type HookForm = { Body: HookBody };
type DeliveryView = ReturnType<typeof toDeliveryView>;
export type HookFormValues = ReturnType<typeof hookFormValues>;

/** What the settings page shows about webhooks besides the list: a new secret, or a refusal. */
export interface HookExtra {
  created?: ReturnType<typeof endpointRow>;
  secret?: string;
  error?: string;
  form?: HookFormValues;
}
export type SettingsRenderer = (request: FastifyRequest, reply: FastifyReply, extra: { hook?: HookExtra }, status?: number) => Promise<FastifyReply>;

/** The checkboxes; typed over the event names so that a new event type cannot be left out. */
const eventHints: Record<Exclude<WebhookEventType, 'webhook.test'>, string> = {
  'file.completed': 'a file finished transcoding',
  'file.failed': 'a file could not be transcoded',
  'file.canceled': 'a transcode was canceled',
};
export const eventChoices = Object.entries(eventHints).map(([value, hint]) => ({ value, hint }));

// Deliveries are seconds apart, so their times carry seconds; the server says UTC (see settings).
const timeFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });
const when = (iso: string | null) => (iso ? { iso, text: `${timeFormat.format(new Date(iso))} UTC` } : null);
const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function endpointRow(e: WebhookEndpointView) {
  return {
    ...e,
    host: URL.canParse(e.url) ? new URL(e.url).host : e.url,
    eventsText: e.events.length > 0 ? e.events.join(', ') : 'All events',
    reason: e.disabledReason ? capitalized(e.disabledReason) : 'Turned off',
    created: when(e.createdAt),
  };
}

/** A pending delivery that has been tried is retrying; the badge says so rather than "pending". */
const stateBadge: Record<string, string> = { succeeded: 'status-completed', failed: 'status-failed', pending: 'status-running', retrying: 'status-canceled' };

function deliveryRow(d: DeliveryView) {
  const state = d.state === 'pending' && d.attempts > 0 ? 'retrying' : d.state;
  const ms = d.durationMs;
  return {
    ...d,
    state,
    badge: stateBadge[state] ?? '',
    result: d.lastStatus !== null ? `HTTP ${d.lastStatus}` : d.lastError,
    resultOk: d.lastStatus !== null && d.lastStatus >= 200 && d.lastStatus < 300,
    duration: ms === null ? null : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`,
    next: d.state === 'pending' ? when(d.nextAttemptAt) : null,
    created: when(d.createdAt),
  };
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');
/** Checkboxes arrive as nothing, one string or several; none ticked means every event. */
const ticked = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** What the form showed, to fill it in again after a refusal. */
export function hookFormValues(body: HookBody) {
  return { url: text(body?.url), description: text(body?.description), events: ticked(body?.events).filter((e): e is string => typeof e === 'string') };
}

/** Fields go to the domain as they came (events as a list), so its checks and messages apply. */
const hookInput = (body: HookBody) => ({ url: body?.url, description: body?.description ?? '', events: ticked(body?.events) });

/** A refusal the person can act on (bad URL, endpoint turned off) is shown on the page; 404s and faults are not. */
const shownOnPage = (err: unknown): err is AppError => err instanceof AppError && err.status < 500 && err.status !== 404;

const base = '/settings/webhooks';

/**
 * Webhook endpoints on the settings pages: the same domain functions as the API, behind plain
 * CSRF-checked forms. Added to the settings plugin, so its requirePageUser hook guards them too.
 */
export function addWebhookPages(server: FastifyInstance, deps: Deps, settingsPage: SettingsRenderer) {
  const csrf = { preHandler: server.csrfProtection };

  const endpointPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    extra: { secret?: string; error?: string; formError?: string; form?: HookFormValues } = {},
    status = 200,
  ) => {
    const endpoint = endpointRow(await getEndpoint(deps, request.userId, id));
    const deliveries = (await listDeliveries(deps, request.userId, id)).map(deliveryRow);
    return renderPage(deps, request, reply, 'webhook', {
      title: `Webhook · ${endpoint.host}`,
      endpoint,
      deliveries,
      eventChoices,
      secret: extra.secret,
      error: extra.error,
      formError: extra.formError,
      form: extra.form ?? { url: endpoint.url, description: endpoint.description, events: endpoint.events },
    }, status);
  };

  /** Runs a change, then back to the endpoint page with a note (POST, redirect, GET). */
  const act = (change: (request: FastifyRequest<ActParams>) => Promise<string>) =>
    async (request: FastifyRequest<ActParams>, reply: FastifyReply) => {
      try {
        request.session.set('flash', await change(request));
        return reply.redirect(`${base}/${request.params.id}`, 303);
      } catch (err) {
        if (!shownOnPage(err)) throw err;
        return endpointPage(request, reply, request.params.id, { error: err.detail }, err.status);
      }
    };

  // Reloading the address a form posted to lands on the page it belongs to, not a 404.
  server.get(base, (_request, reply) => reply.redirect('/settings#webhooks', 303));
  server.get<IdParams>(`${base}/:id/rotate-secret`, (request, reply) => reply.redirect(`${base}/${request.params.id}`, 303));

  server.post<HookForm>(base, csrf, async (request, reply) => {
    try {
      const created = await createEndpoint(deps, request.userId, hookInput(request.body));
      // The secret is in this answer only (never listed again), so it must not be cached either.
      reply.header('Cache-Control', 'no-store');
      return await settingsPage(request, reply, { hook: { created: endpointRow(created), secret: created.secret } });
    } catch (err) {
      if (!shownOnPage(err)) throw err;
      return settingsPage(request, reply, { hook: { error: err.detail, form: hookFormValues(request.body) } }, err.status);
    }
  });

  server.get<IdParams>(`${base}/:id`, (request, reply) => endpointPage(request, reply, request.params.id));

  server.post<IdParams & HookForm>(`${base}/:id`, csrf, async (request, reply) => {
    try {
      await updateEndpoint(deps, request.userId, request.params.id, hookInput(request.body));
      request.session.set('flash', 'Saved. From now on, events go to this address for the events ticked here.');
      return reply.redirect(`${base}/${request.params.id}`, 303);
    } catch (err) {
      if (!shownOnPage(err)) throw err;
      return endpointPage(request, reply, request.params.id, { formError: err.detail, form: hookFormValues(request.body) }, err.status);
    }
  });

  server.post<ActParams>(`${base}/:id/test`, csrf, act(async (request) => {
    const { deliveryId } = await sendTest(deps, request.userId, request.params.id);
    return `A test event was queued as ${deliveryId ?? 'a new delivery'}. It is listed below; reload the page to see how it went.`;
  }));

  server.post<ActParams>(`${base}/:id/disable`, csrf, act(async (request) => {
    await updateEndpoint(deps, request.userId, request.params.id, { enabled: false });
    return 'The endpoint is turned off.';
  }));

  server.post<ActParams>(`${base}/:id/enable`, csrf, act(async (request) => {
    await updateEndpoint(deps, request.userId, request.params.id, { enabled: true });
    return 'The endpoint is on again. Deliveries that failed while it was off can be replayed below.';
  }));

  server.post<ActParams>(`${base}/:id/deliveries/:deliveryId/replay`, csrf, act(async (request) => {
    const deliveryId = request.params.deliveryId ?? '';
    await replayDelivery(deps, request.userId, request.params.id, deliveryId);
    return `Delivery ${deliveryId} is being sent again, under the same webhook-id.`;
  }));

  server.post<IdParams>(`${base}/:id/rotate-secret`, csrf, async (request, reply) => {
    const rotated = await rotateSecret(deps, request.userId, request.params.id);
    reply.header('Cache-Control', 'no-store');
    return endpointPage(request, reply, request.params.id, { secret: rotated.secret });
  });

  server.post<IdParams>(`${base}/:id/delete`, csrf, async (request, reply) => {
    const endpoint = await getEndpoint(deps, request.userId, request.params.id);
    await deleteEndpoint(deps, request.userId, request.params.id);
    request.session.set('flash', `The webhook endpoint ${endpoint.url} was deleted. Nothing more is sent to it.`);
    return reply.redirect('/settings#webhooks', 303);
  });
}
