import { networkReason, problemDetail } from './api.ts';
import { CliError } from './errors.ts';

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/**
 * Server-Sent Events from a fetch body, per the HTML spec's parsing rules (any line ending,
 * `field: value`, comments, a blank line ends a message). EventSource itself cannot send an
 * Authorization header, and Node 20 has none anyway.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      // At the end a trailing \r is a whole line ending after all.
      if (done) buffer = buffer.replace(/\r$/, '\n');
      else buffer += decoder.decode(value, { stream: true });
      let match: RegExpExecArray | null;
      // A lone \r at the very end may be half of \r\n: wait for the next chunk to know.
      while ((match = /\r\n|\r(?!$)|\n/.exec(buffer))) {
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (data.length > 0 || event) yield { ...(id !== undefined ? { id } : {}), event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
      // Whatever is left has no line ending: per the spec, an unfinished message is dropped.
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

export interface StreamOptions {
  url: string;
  token: string;
  signal: AbortSignal;
  /** Gives up after this long without a working connection. */
  giveUpAfterMs?: number;
}

/**
 * GET /api/v1/events for as long as the caller iterates, reconnecting after a dropped connection
 * with Last-Event-ID, so the server replays what happened in between and nothing is missed.
 * A refusal (401, 429) is not a dropped connection: it ends the stream with the server's reason.
 */
export async function* followEvents(opts: StreamOptions): AsyncGenerator<SseMessage> {
  let lastId: string | undefined;
  let troubleSince: number | undefined;
  const giveUpAfterMs = opts.giveUpAfterMs ?? 60_000;
  while (!opts.signal.aborted) {
    let res: Response | undefined;
    let failure: unknown;
    try {
      res = await fetch(opts.url, {
        headers: { authorization: `Bearer ${opts.token}`, accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
        signal: opts.signal,
      });
    } catch (err) {
      failure = err;
    }
    if (opts.signal.aborted) return;
    if (res && !res.ok) {
      const detail = problemDetail(await res.text().catch(() => ''));
      if (res.status < 500) throw new CliError(`the event stream was refused (${res.status}: ${detail})`);
      failure = new Error(`${res.status} ${detail}`);
    } else if (res?.body) {
      try {
        for await (const message of parseSse(res.body)) {
          troubleSince = undefined;
          if (message.id !== undefined) lastId = message.id;
          yield message;
        }
      } catch (err) {
        if (opts.signal.aborted) return;
        failure = err;
      }
    }
    troubleSince ??= Date.now();
    if (Date.now() - troubleSince > giveUpAfterMs) {
      throw new CliError(`lost the event stream and could not get it back (${failure ? networkReason(failure) : 'closed by the server'})`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
