import net from 'node:net';

export interface RawResponse {
  /** 0 when the connection closed before a status line arrived. */
  status: number;
  head: string;
  body: string;
  /** Milliseconds until the connection closed (or the timeout hit). */
  elapsedMs: number;
  timedOut: boolean;
}

/**
 * Sends bytes no browser (and no fetch) would send — CR/LF or raw 0x80–0xFF in headers, broken
 * multipart — and reads what comes back until the server closes or `timeoutMs` passes.
 * `chunks` after the first are written `gapMs` apart, for slow or trickling clients.
 */
export function rawRequest(url: string, chunks: (string | Buffer)[], opts: { timeoutMs?: number; gapMs?: number } = {}): Promise<RawResponse> {
  const { port, hostname } = new URL(url);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    let finished = false;
    const timer = setTimeout(() => finish(true), opts.timeoutMs ?? 10_000);
    function finish(timedOut: boolean) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: split >= 0 ? text.slice(split + 4) : '', elapsedMs: Date.now() - started, timedOut });
    }
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('close', () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => {
      let i = 0;
      const writeNext = () => {
        if (finished || socket.destroyed || i >= chunks.length) return;
        socket.write(chunks[i++] as string | Buffer);
        if (i < chunks.length) setTimeout(writeNext, opts.gapMs ?? 0);
      };
      writeNext();
    });
  });
}

/** A request head with Connection: close; the body's length is declared unless `headers` say otherwise. */
export function head(method: string, path: string, headers: Record<string, string | number>, bodyLength?: number): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (bodyLength !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'transfer-encoding')) {
    lines.push(`Content-Length: ${bodyLength}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
