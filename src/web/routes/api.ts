import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import { logIn, signUp } from '../../domain/accounts.ts';
import { cancelFile, deleteFile, getFile, listFiles, retryFile, toFileView } from '../../domain/files.ts';
import { dismissAllNotifications, dismissNotification, listNotifications } from '../../domain/notifications.ts';
import { createToken, issuePasswordToken, listTokens, revokeToken, type TokenInput } from '../../domain/tokens.ts';
import { defaultPresetIds, describeDepthAndRate, presets } from '../../media/presets.ts';
import { AppError } from '../../errors.ts';
import { requireApiUser } from '../auth.ts';
import { sendOutput } from '../download.ts';
import { openApiDocument } from '../openapi.ts';
import type { Throttles } from '../throttle.ts';
import { receiveUpload } from '../upload.ts';

type IdParams = { Params: { id: string } };
type Credentials = { Body: { username?: unknown; password?: unknown } | undefined };
type TokenRequest = { Body: ({ username?: unknown; password?: unknown } & TokenInput) | undefined };

/** The versioned JSON API: everything the pages do, for programs. */
export function apiRoutes(app: WebContext, throttles: Throttles) {
  const { deps, accountDeps } = app;
  return async (server: FastifyInstance) => {
    server.get('/openapi.json', () => openApiDocument());

    server.get('/presets', () => ({
      presets: presets.map((p) => ({
        id: p.id,
        label: p.label,
        container: p.muxer,
        codec: p.codec,
        bitRate: p.bitRate ?? null,
        quality: p.quality ?? null,
        sampleRate: p.sampleRate ?? null,
        maxChannels: p.maxChannels,
        extension: p.extension,
        mimeType: p.mimeType,
        lossless: p.lossless,
        depthAndRate: describeDepthAndRate(p),
        default: defaultPresetIds.includes(p.id),
      })),
    }));

    server.post<Credentials>('/accounts', async (request, reply) => {
      await throttles.beforeSignup(request, reply);
      const user = await signUp(accountDeps, request.body ?? {});
      return reply.status(201).send({ id: user.id, username: user.username });
    });

    // One route, two meanings, told apart by the Authorization header: a caller that presents a
    // token makes a named token (read-only tokens are refused like any write); a caller with
    // none exchanges a username and password, throttled like the sign-in form. A cookie alone
    // never makes a token here: the settings page does that with a CSRF-checked form.
    const authenticate = requireApiUser(deps);
    server.post<TokenRequest>('/tokens', async (request, reply) => {
      const body = request.body ?? {};
      if (request.headers.authorization !== undefined) {
        await authenticate(request);
        return reply.status(201).send(await createToken(deps, request.userId, body));
      }
      await throttles.beforeLogin(request, reply, body.username);
      const user = await logIn(accountDeps, body).catch(async (err: unknown) => {
        if (err instanceof AppError && err.status === 401) await throttles.loginFailed(request, body.username);
        throw err;
      });
      return reply.status(201).send({ token: await issuePasswordToken(deps, user.id), tokenType: 'Bearer' });
    });

    await server.register(async (authed) => {
      authed.addHook('preHandler', requireApiUser(deps));

      authed.get('/tokens', async (request) => ({ tokens: await listTokens(deps, request.userId) }));
      authed.delete<IdParams>('/tokens/:id', async (request, reply) => {
        await revokeToken(deps, request.userId, request.params.id);
        return reply.status(204).send();
      });

      authed.get('/files', async (request) => ({ files: await listFiles(deps, request.userId) }));

      authed.post('/files', async (request, reply) => {
        const file = await receiveUpload(deps, request, request.userId);
        return reply.status(201).header('Location', `/api/v1/files/${file.id}`).send(toFileView(file, []));
      });

      authed.get<IdParams>('/files/:id', (request) => getFile(deps, request.userId, request.params.id));

      authed.delete<IdParams>('/files/:id', async (request, reply) => {
        await deleteFile(deps, request.userId, request.params.id);
        return reply.status(204).send();
      });

      authed.post<IdParams>('/files/:id/cancel', (request) => cancelFile(deps, request.userId, request.params.id));
      authed.post<IdParams>('/files/:id/retry', (request) => retryFile(deps, request.userId, request.params.id));

      authed.get<{ Params: { id: string; preset: string }; Querystring: { inline?: string } }>(
        '/files/:id/outputs/:preset',
        (request, reply) => sendOutput(deps, request, reply, request.userId),
      );

      authed.get<{ Querystring: { state?: string } }>('/notifications', async (request) => ({
        notifications: await listNotifications(deps, request.userId, request.query.state === 'unread'),
      }));
      authed.post<IdParams>('/notifications/:id/dismiss', (request) =>
        dismissNotification(deps, request.userId, request.params.id),
      );
      authed.post('/notifications/dismiss-all', async (request) => ({
        dismissed: await dismissAllNotifications(deps, request.userId),
      }));
    });
  };
}
