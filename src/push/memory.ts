import { EventEmitter } from 'node:events';
import type { PushEvent, PushHub } from '../domain/ports.ts';

/** Fan-out inside one process: every subscriber of a user gets that user's events, nobody else's. */
export function createMemoryPushHub(): PushHub {
  const emitter = new EventEmitter();
  // Each open tab is a listener; hundreds per user are normal, not a leak.
  emitter.setMaxListeners(0);
  return {
    publish(userId, event) {
      emitter.emit(`user:${userId}`, event);
    },
    subscribe(userId, listener: (event: PushEvent) => void) {
      emitter.on(`user:${userId}`, listener);
      return () => emitter.off(`user:${userId}`, listener);
    },
  };
}
