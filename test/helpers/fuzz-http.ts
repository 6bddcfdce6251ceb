/**
 * HTTP/1.1 over a raw socket, for the fuzz test. fetch (and Node's http client) refuse to send
 * what the fuzz test is about — CR/LF or NUL in a header, bytes 0x80–0xFF, a broken
 * request-target — so requests are written as bytes and only the answer's head is read.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';

export type Outcome =
  | { kind: 'response'; status: number; statusLine: string; headers: [string, string][]; ms: number }
  /** Nothing (or no complete head) arrived within the time limit. */
  | { kind: 'hang'; received: Buffer; ms: number }
  /** The connection failed or closed before a complete response head arrived. */
  | { kind: 'reset'; error: string; received: Buffer; ms: number }
  /** Bytes arrived that are not an HTTP/1.x response head. */
  | { kind: 'malformed'; received: Buffer; ms: number };

const HEAD_END = Buffer.from('\r\n\r\n');
/** A head this large without its end is not one Node would send. */
const MAX_HEAD = 64 * 1024;

/**
 * Sends `request` and resolves with the first final (non-1xx) response head. The socket is closed
 * as soon as the head is in: streams (SSE) never end, and bodies are not what is being checked.
 */
export function exchange(port: number, request: Buffer, timeoutMs: number): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ port, host: '127.0.0.1' });
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'hang', received, ms: Date.now() - started }), timeoutMs);

    socket.on('connect', () => socket.write(request, () => undefined));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // Interim answers (100 Continue) come before the real one: skip them.
      for (;;) {
        const end = received.indexOf(HEAD_END);
        if (end < 0) {
          if (received.length > MAX_HEAD || !isHttpPrefix(received)) finish({ kind: 'malformed', received, ms: Date.now() - started });
          return;
        }
        const lines = received.subarray(0, end).toString('latin1').split('\r\n');
        const statusLine = lines[0] ?? '';
        const match = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/.exec(statusLine);
        if (!match) return finish({ kind: 'malformed', received, ms: Date.now() - started });
        const status = Number(match[1]);
        if (status >= 100 && status < 200) {
          received = received.subarray(end + HEAD_END.length);
          continue;
        }
        const headers = lines.slice(1).map((line): [string, string] => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
        });
        return finish({ kind: 'response', status, statusLine, headers, ms: Date.now() - started });
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'reset', error: err.code ?? err.message, received, ms: Date.now() - started }));
    socket.on('close', () => finish({ kind: 'reset', error: 'closed before a complete response head', received, ms: Date.now() - started }));
  });
}

function isHttpPrefix(data: Buffer): boolean {
  const head = data.subarray(0, 9).toString('latin1');
  return 'HTTP/1.1 '.startsWith(head) || 'HTTP/1.0 '.startsWith(head);
}

/**
 * The bytes as a JavaScript latin1 string literal, one HTTP line per source line, long runs of
 * one character folded into .repeat(): short enough to read, exact enough to paste into
 * `net.connect(port).write(Buffer.from(<this>, 'latin1'))`.
 */
export function describeBytes(bytes: Buffer, maxChars = 6000): string {
  const text = bytes.toString('latin1');
  const pieces: string[] = [];
  let literal = '';
  const flush = () => {
    if (literal) pieces.push(`'${literal}'`);
    literal = '';
  };
  for (let i = 0; i < text.length; ) {
    let run = 1;
    while (text[i + run] === text[i]) run++;
    const ch = escapeChar(text[i] ?? '');
    if (run > 24) {
      flush();
      pieces.push(`'${ch}'.repeat(${run})`);
    } else {
      literal += ch.repeat(run);
    }
    if (text[i + run - 1] === '\n') {
      flush();
      pieces.push('\n');
    }
    i += run;
  }
  flush();
  let out = pieces.join(' + ').replace(/ \+ \n \+ /g, ' +\n').replace(/ \+ \n$/, '');
  if (out.length > maxChars) out = `${out.slice(0, maxChars)} … (${out.length - maxChars} more characters)`;
  return out;
}

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === "'") return "\\'";
  if (ch === '\\') return '\\\\';
  if (ch === '\r') return '\\r';
  if (ch === '\n') return '\\n';
  if (code < 0x20 || code >= 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  return ch;
}

/** Saves the exact request bytes so a failure can be replayed with `nc 127.0.0.1 <port> < file`. */
export function saveRequest(file: string, bytes: Buffer): string {
  writeFileSync(file, bytes);
  return file;
}
