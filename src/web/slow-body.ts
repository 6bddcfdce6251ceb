import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Less than this many bytes in a whole idle window counts as idle: a trickle is not progress. */
const MIN_BYTES_PER_WINDOW = 16 * 1024;
const TICK_MS = 1_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the body was cut for idling, so the failure is not blamed on storage. */
    bodyCut?: boolean;
  }
}

/**
 * Cuts any request whose body stalls: fewer than 16 KiB arriving in `idleMs` (a client that
 * went away, or one that sends a byte every few seconds to hold a connection and a partial
 * file). The socket is destroyed; the code reading the body sees the stream fail and removes what
 * it stored. Node's own timeouts cannot express "too slow" for a body, only "no bytes at all".
 */
export function registerSlowBodyGuard(server: FastifyInstance, idleMs: number): void {
  server.addHook('onRequest', async (request: FastifyRequest) => {
    const raw = request.raw;
    const hasBody = raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0;
    if (!hasBody || raw.complete) return;
    const socket = raw.socket;
    let windowStart = Date.now();
    let bytesAtStart = socket.bytesRead;
    const timer = setInterval(() => {
      if (raw.complete || socket.destroyed) return clearInterval(timer);
      if (Date.now() - windowStart < idleMs) return;
      if (socket.bytesRead - bytesAtStart < MIN_BYTES_PER_WINDOW) {
        clearInterval(timer);
        request.bodyCut = true;
        request.log.info({ url: request.url.slice(0, 200), receivedInWindow: socket.bytesRead - bytesAtStart }, 'request body idle: connection cut');
        socket.destroy();
        return;
      }
      windowStart = Date.now();
      bytesAtStart = socket.bytesRead;
    }, TICK_MS);
    timer.unref();
    raw.once('close', () => clearInterval(timer));
  });
}
