import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context.ts';
import { logIn, signUp } from '../../domain/accounts.ts';
import { cancelFile, deleteFile, getFile, retryFile, toFileView } from '../../domain/files.ts';
import { deleteFiles, retryFiles } from '../../domain/file-bulk.ts';
import { addOutputs } from '../../domain/more-outputs.ts';
import { addOutputsSchema } from '../schemas/outputs.ts';
import { decodeCursor, listFilesPage, parseStatus } from '../../domain/file-list.ts';
import { retentionPolicy } from '../../domain/retention-settings.ts';
import { dismissAllNotifications, dismissNotification, listNotifications } from '../../domain/notifications.ts';
import { createToken, issuePasswordToken, listTokens, revokeToken } from '../../domain/tokens.ts';
import { AppError } from '../../errors.ts';
import { requireApiUser } from '../auth.ts';
import { sendOutput } from '../download.ts';
import type { Throttles } from '../throttle.ts';
import { receiveUpload } from '../upload.ts';
import {
  cancelFileSchema,
  deleteFileSchema,
  deleteFilesSchema,
  getFileSchema,
  listFilesSchema,
  outputSchema,
  retryFileSchema,
  retryFilesSchema,
  uploadFileSchema,
} from '../schemas/files.ts';
import { dismissAllSchema, dismissNotificationSchema, listNotificationsSchema } from '../schemas/notifications.ts';
import { createAccountSchema, createTokenSchema, listTokensSchema, revokeTokenSchema, type TokenRequestBody } from '../schemas/tokens.ts';

/** Bodies are typed by the schemas where JSON; anything else (a form) reaches the domain's checks. */
const fieldsOf = (body: unknown): TokenRequestBody => (body && typeof body === 'object' && !Array.isArray(body) ? body : {});

/** The versioned JSON API: everything the pages do, for programs. Schemas: ../schemas/. */
export function apiRoutes(app: WebContext, throttles: Throttles) {
  const { deps, accountDeps } = app;
  return async (plain: FastifyInstance) => {
    const server = plain.withTypeProvider<TypeBoxTypeProvider>();
    server.post('/accounts', { schema: createAccountSchema }, async (request, reply) => {
      await throttles.beforeSignup(request, reply);
      const user = await signUp(accountDeps, fieldsOf(request.body));
      return reply.status(201).send({ id: user.id, username: user.username });
    });

    // One route, two meanings, told apart by the Authorization header: a caller that presents a
    // token makes a named token (read-only tokens are refused like any write); a caller with
    // none exchanges a username and password, throttled like the sign-in form. A cookie alone
    // never makes a token here: the settings page does that with a CSRF-checked form.
    const authenticate = requireApiUser(deps);
    server.post('/tokens', { schema: createTokenSchema }, async (request, reply) => {
      const body = fieldsOf(request.body);
      if (request.headers.authorization !== undefined) {
        await authenticate(request);
        return reply.status(201).send(await createToken(deps, request.userId, body));
      }
      await throttles.beforeLogin(request, reply, body.username);
      const user = await logIn(accountDeps, body).catch(async (err: unknown) => {
        if (err instanceof AppError && err.status === 401) await throttles.loginFailed(request, body.username);
        throw err;
      });
      return reply.status(201).send({ token: await issuePasswordToken(deps, user.id), tokenType: 'Bearer' as const });
    });

    await server.register(async (plainAuthed) => {
      const authed = plainAuthed.withTypeProvider<TypeBoxTypeProvider>();
      // Before validation: a caller without a token learns nothing about what a route accepts.
      authed.addHook('preValidation', requireApiUser(deps));

      authed.get('/tokens', { schema: listTokensSchema }, async (request) => ({ tokens: await listTokens(deps, request.userId) }));
      authed.delete('/tokens/:id', { schema: revokeTokenSchema }, async (request, reply) => {
        await revokeToken(deps, request.userId, request.params.id);
        return reply.status(204).send();
      });

      authed.get('/files', { schema: listFilesSchema }, async (request) => {
        const { status, limit, before } = request.query;
        const page = await listFilesPage(deps, request.userId, { status: parseStatus(status), limit: limit === undefined ? undefined : Number(limit), before: decodeCursor(before) });
        return { files: page.files, next: page.next };
      });
      // Bulk actions are verbs on the collection (POST with a body), not DELETE with a body, which
      // proxies and clients may drop: see docs/decisions/0015-batches-and-paged-files.md.
      authed.post('/files/delete', { schema: deleteFilesSchema }, (request) => deleteFiles(deps, request.userId, request.body?.ids));
      authed.post('/files/retry', { schema: retryFilesSchema }, (request) => retryFiles(deps, request.userId, request.body?.ids));

      // The multipart body is read as a stream in the handler; its schema only documents it.
      authed.post('/files', { schema: uploadFileSchema, validatorCompiler: () => () => true }, async (request, reply) => {
        const file = await receiveUpload(deps, request, request.userId);
        return reply.status(201).header('Location', `/api/v1/files/${file.id}`).send(toFileView(file, [], await retentionPolicy(deps, request.userId)));
      });

      authed.get('/files/:id', { schema: getFileSchema }, (request) => getFile(deps, request.userId, request.params.id));

      authed.delete('/files/:id', { schema: deleteFileSchema }, async (request, reply) => {
        await deleteFile(deps, request.userId, request.params.id);
        return reply.status(204).send();
      });

      authed.post('/files/:id/cancel', { schema: cancelFileSchema }, (request) => cancelFile(deps, request.userId, request.params.id));
      authed.post('/files/:id/retry', { schema: retryFileSchema }, (request) => retryFile(deps, request.userId, request.params.id));
      authed.post('/files/:id/outputs', { schema: addOutputsSchema }, async (request, reply) =>
        reply.status(202).send(await addOutputs(deps, request.userId, request.params.id, request.body?.presets)),
      );

      // Shared with the file page, which has no type provider: typed by hand, checked by the schema.
      plainAuthed.get<{ Params: { id: string; preset: string }; Querystring: { inline?: string } }>('/files/:id/outputs/:preset', { schema: outputSchema }, (request, reply) =>
        sendOutput(deps, request, reply, request.userId),
      );

      authed.get('/notifications', { schema: listNotificationsSchema }, async (request) => ({
        notifications: await listNotifications(deps, request.userId, request.query.state === 'unread'),
      }));
      authed.post('/notifications/:id/dismiss', { schema: dismissNotificationSchema }, (request) =>
        dismissNotification(deps, request.userId, request.params.id),
      );
      authed.post('/notifications/dismiss-all', { schema: dismissAllSchema }, async (request) => ({
        dismissed: await dismissAllNotifications(deps, request.userId),
      }));
    });
  };
}
