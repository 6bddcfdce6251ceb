/** The live-push seam: events a user's open pages receive, within one process or across many. */

export interface PushEvent {
  /** The event's row id: the SSE id a reconnecting client sends back as Last-Event-ID. */
  id: number;
  type: 'notification.created' | 'notification.dismissed' | 'file.updated';
  /** JSON-serializable payload. */
  data: object;
}

export interface PushHub {
  /** Delivers to this user's subscribers (in every process sharing the backend), nobody else's. */
  publish(userId: string, event: PushEvent): void;
  /** Returns the function that stops delivery to this listener. */
  subscribe(userId: string, listener: (event: PushEvent) => void): () => void;
}
