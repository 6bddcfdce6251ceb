import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { listNotifications } from '../domain/notifications.ts';
import type { Deps } from '../domain/ports.ts';
import { formatBytes, formatClock, formatDateTime, formatDuration } from '../format.ts';

const views = path.join(path.dirname(fileURLToPath(import.meta.url)), 'views');
// autoEscape is Eta's default; stated here because every template relies on it.
const eta = new Eta({ views, autoEscape: true, cache: process.env.NODE_ENV !== 'development' });

export interface PageContext {
  title: string;
  [key: string]: unknown;
}

const helpers = { formatBytes, formatClock, formatDuration, formatDateTime };

const formsForVisitors = new Set(['login', 'signup']);

/** Renders a page inside the layout, with the signed-in user's undismissed notifications. */
export async function renderPage(
  deps: Deps,
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  ctx: PageContext,
  status = 200,
): Promise<FastifyReply> {
  const userId = request.session.get('userId');
  const [notifications, me] = userId ? await Promise.all([listNotifications(deps, userId, true), deps.store.users.findById(userId)]) : [[], undefined];
  const flash = request.session.get('flash');
  if (flash) request.session.set('flash', undefined);
  const html = eta.render(template, {
    ...ctx,
    h: helpers,
    // Only administrators see the admin link; everyone else is told nothing of the area.
    user: userId ? { username: request.session.get('username'), isAdmin: me?.is_admin === true && me.disabled_at === null } : null,
    notifications,
    flash,
    // Anonymous visitors only need a CSRF secret (and so a stored session) on the forms they can
    // use: signing in and signing up. A 404 page must not create a 14-day session row.
    csrfToken: userId || formsForVisitors.has(template) ? reply.generateCsrf() : '',
    path: request.url.split('?')[0],
  });
  return reply.status(status).type('text/html; charset=utf-8').send(html);
}
