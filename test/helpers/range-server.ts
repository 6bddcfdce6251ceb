import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RangeServer {
  /** The URL of a local file, with a query string standing in for a presigned URL's signature. */
  urlOf(file: string): string;
  /** Every request's Range header (or "none"), in order. */
  readonly ranges: string[];
  /** From now on, send a range's headers and only this many of its bytes, then drop the connection. */
  cutAfter(bytes: number | undefined): void;
  /** From now on, answer every request 403, as S3 answers an expired URL. */
  refuse(yes: boolean): void;
  close(): Promise<void>;
}

const SECRET = 'X-Amz-Signature=0123456789abcdef0123456789abcdef';

/**
 * A real HTTP server on loopback that serves local files by path, one byte range per request as
 * S3 serves a ranged GET: what ffmpeg fetches from a presigned URL, without the bucket.
 */
export async function startRangeServer(): Promise<RangeServer> {
  const ranges: string[] = [];
  let cut: number | undefined;
  let refusing = false;
  const server = http.createServer((req, res) => {
    ranges.push(req.headers.range ?? 'none');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (refusing || url.searchParams.get('X-Amz-Signature') !== SECRET.split('=')[1]) {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    const file = decodeURIComponent(url.pathname);
    stat(file).then(
      ({ size }) => {
        const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        const end = m && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
        const headers = { 'content-length': String(end - start + 1), 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
        res.writeHead(m ? 206 : 200, m ? { ...headers, 'content-range': `bytes ${start}-${end}/${size}` } : headers);
        if (cut === undefined) return void createReadStream(file, { start, end }).pipe(res);
        // The promised length, but the connection ends early: a dropped store.
        createReadStream(file, { start, end: Math.min(end, start + cut - 1) })
          .on('end', () => res.socket?.destroy())
          .pipe(res, { end: false });
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    urlOf: (file) => `http://127.0.0.1:${port}${encodeURI(file)}?X-Amz-Expires=600&${SECRET}`,
    ranges,
    cutAfter: (bytes) => void (cut = bytes),
    refuse: (yes) => void (refusing = yes),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The part of a URL that must never reach a message a user or a log sees. */
export const SIGNATURE = SECRET.split('=')[1]!;
