// The bare HTTP ceiling: a node:http server that answers POST /v2/models/m/infer with a constant
// small V2 response (after reading the body) and GET /v2/models/m with metadata, so that load
// generators (wrk, autocannon, sibyl bench) can be compared against a server that does nothing.
//   npx tsx bench/servers/bare-node-http.ts [port]     (default 8010; prints its URL)
import http from 'node:http';

const port = Number(process.argv[2] ?? 8010);
const METADATA = JSON.stringify({
  name: 'm',
  versions: ['1'],
  platform: 'bare-node-http',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
});
const RESPONSE = JSON.stringify({ model_name: 'm', model_version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] }] });
const NOT_FOUND = JSON.stringify({ error: 'not found' });

const server = http.createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method === 'POST' && url === '/v2/models/m/infer') {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(RESPONSE) });
      res.end(RESPONSE);
    });
    return;
  }
  const body = req.method === 'GET' && url === '/v2/models/m' ? METADATA : NOT_FOUND;
  req.resume();
  res.writeHead(body === METADATA ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`bare-node-http listening on http://127.0.0.1:${port}\n`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
