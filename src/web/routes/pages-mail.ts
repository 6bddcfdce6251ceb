import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { updateMailSettings } from '../../domain/mail-settings.ts';
import type { Deps } from '../../domain/ports.ts';
import { AppError } from '../../errors.ts';

type MailForm = { Body: { email?: unknown; onJobEnd?: unknown } | undefined };

/** What the settings page shows about mail besides the stored choice: a refusal and what was typed. */
export interface MailExtra {
  error?: string;
  form?: { email: string; onJobEnd: boolean };
}
export type MailSettingsRenderer = (request: FastifyRequest, reply: FastifyReply, extra: { mail?: MailExtra }, status?: number) => Promise<FastifyReply>;

const wantsJson = (request: FastifyRequest) => request.headers.accept?.includes('application/json') ?? false;

/** A form sends text, and a checkbox only when ticked. */
const formInput = (body: MailForm['Body']) => ({ email: typeof body?.email === 'string' ? body.email : '', onJobEnd: body?.onJobEnd !== undefined });

/** POST /settings/mail: the same change as PATCH /api/v1/settings/mail, from a plain form. */
export function addMailPages(server: FastifyInstance, deps: Deps, settingsPage: MailSettingsRenderer): void {
  server.post<MailForm>('/settings/mail', { preHandler: server.csrfProtection }, async (request, reply) => {
    const input = formInput(request.body);
    try {
      const saved = await updateMailSettings(deps, request.userId, input);
      if (wantsJson(request)) return reply.send(saved);
      request.session.set('flash', saved.onJobEnd ? `Saved: you will be mailed at ${saved.email ?? ''} when a job ends.` : 'Saved: no mail when a job ends.');
      return reply.redirect('/settings#mail', 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || wantsJson(request)) throw err;
      return settingsPage(request, reply, { mail: { error: err.detail, form: input } }, err.status);
    }
  });
}
