import { Type } from 'typebox';
import { problem, unauthenticated } from './common.ts';

export const eventStreamSchema = {
  summary: 'Server-Sent Events for the caller: notification.created, notification.dismissed, file.updated',
  description: 'A fresh stream starts with a `ready` event whose id is where "now" is; reconnect with that id (or the last one seen) to get what was missed, up to 1000 events.',
  headers: Type.Object({
    'last-event-id': Type.Optional(Type.String({ description: 'Replay events after this id (a non-negative integer; anything else starts fresh)' })),
  }),
  querystring: Type.Object({
    lastEventId: Type.Optional(Type.String({ description: 'Same as Last-Event-ID, for clients that cannot set headers' })),
  }),
  response: {
    // HEAD answers these headers with no body, hence undefined beside the stream's text.
    200: { description: 'An event stream', content: { 'text/event-stream': { schema: Type.Unsafe<string | undefined>({ type: 'string' }) } } },
    401: unauthenticated,
    422: problem('A query parameter given twice (invalid_query)'),
    429: problem('Too many streams open for this account (too_many_streams; EVENT_STREAMS_PER_USER)'),
  },
};
