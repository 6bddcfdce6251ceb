import http from 'node:http';

/** Baseline for memory per open event stream: holds SSE connections, sends a heartbeat, nothing else. */
const port = Number(process.argv[2]);
const streams = new Set<http.ServerResponse>();
http
  .createServer((req, res) => {
    if (req.url === '/healthz') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
  })
  .listen(port, '127.0.0.1');
setInterval(() => streams.forEach((res) => res.write(': heartbeat\n\n')), 20_000).unref();
