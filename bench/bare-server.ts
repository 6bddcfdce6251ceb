/**
 * The comparison point for the upload memory benchmark: a plain node:http server that pipes each
 * request body to a file and answers 201. Run as a child: PORT and BARE_DIR come from the env.
 */
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.env.BARE_DIR;
const port = Number(process.env.PORT);
if (!dir || !Number.isInteger(port) || port <= 0) throw new Error('bare-server needs BARE_DIR and PORT');

let count = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  const dest = path.join(dir, `upload-${count++}`);
  pipeline(req, createWriteStream(dest)).then(
    () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: String(count) })),
    (err: unknown) => res.writeHead(500).end(String(err)),
  );
});
server.listen(port, '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));
