import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebContext } from '../context.ts';
import { logIn, signUp } from '../../domain/accounts.ts';
import { AppError } from '../../errors.ts';
import { renderPage } from '../render.ts';
import { safeNext } from '../safety.ts';
import type { Throttles } from '../throttle.ts';

interface Credentials {
  username?: string;
  password?: string;
  next?: string;
}

export function authPages(app: WebContext, throttles: Throttles) {
  const { deps, accountDeps } = app;
  return async (server: FastifyInstance) => {
    const startSession = async (request: FastifyRequest, reply: FastifyReply, user: { id: string; username: string }, next: unknown) => {
      // A fresh session id on login defeats session fixation.
      await request.session.regenerate();
      request.session.set('userId', user.id);
      request.session.set('username', user.username);
      return reply.redirect(safeNext(next), 303);
    };

    server.get('/', (request, reply) => reply.redirect(request.session.get('userId') ? '/files' : '/login', 303));

    server.get('/signup', (request, reply) =>
      renderPage(deps, request, reply, 'signup', { title: 'Create an account', signupOpen: deps.config.signupOpen }),
    );

    server.post<{ Body: Credentials }>('/signup', { preHandler: server.csrfProtection }, async (request, reply) => {
      try {
        await throttles.beforeSignup(request, reply);
        const user = await signUp(accountDeps, request.body ?? {});
        return await startSession(request, reply, user, '/files');
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return renderPage(deps, request, reply, 'signup', {
          title: 'Create an account', signupOpen: deps.config.signupOpen, error: err.detail, username: typeof request.body?.username === 'string' ? request.body.username : '',
        }, err.status);
      }
    });

    server.get<{ Querystring: { next?: string } }>('/login', (request, reply) =>
      renderPage(deps, request, reply, 'login', { title: 'Sign in', next: safeNext(request.query.next), signupOpen: deps.config.signupOpen }),
    );

    server.post<{ Body: Credentials }>(
      '/login',
      { preHandler: server.csrfProtection },
      async (request, reply) => {
        try {
          await throttles.beforeLogin(request, reply, request.body?.username);
          const user = await logIn(accountDeps, request.body ?? {}).catch(async (err: unknown) => {
            if (err instanceof AppError && err.status === 401) await throttles.loginFailed(request, request.body?.username);
            throw err;
          });
          return await startSession(request, reply, user, request.body?.next);
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500) throw err;
          return renderPage(deps, request, reply, 'login', {
            title: 'Sign in', error: err.detail, username: typeof request.body?.username === 'string' ? request.body.username : '', next: safeNext(request.body?.next), signupOpen: deps.config.signupOpen,
          }, err.status);
        }
      },
    );

    server.post('/logout', { preHandler: server.csrfProtection }, async (request, reply) => {
      await request.session.destroy();
      return reply.redirect('/login', 303);
    });
  };
}
