import '@fastify/session';

declare module 'fastify' {
  interface Session {
    userId?: string;
    username?: string;
    flash?: string;
  }
  interface FastifyRequest {
    /** The signed-in user's id, set by the auth hooks of protected routes. */
    userId: string;
    username: string;
  }
}
