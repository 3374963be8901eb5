// A tiny in-process Open Inference Protocol server for the bench tests: model metadata, and an
// infer endpoint whose behaviour is chosen by the first input's name in the request body:
//   ok, or any other name → 200 with a fixed V2 response
//   busy → 503 {"error", "reason": "QUEUE_FULL"}     bad → 400 {"error"} without reason
//   text → 500 text/plain                            chunked → 200, chunked encoding
//   close → 200 with Connection: close               slow → 200 after 300 ms
//   reset → the socket is destroyed, no response     hang → no response ever (until close)
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeV2Server {
  url: string;
  /** Infer requests received, by behaviour. */
  received: Record<string, number>;
  close(): Promise<void>;
}

export const OK_RESPONSE = JSON.stringify({ model_name: 'm', outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [1] }] });

export const METADATA = { name: 'm', platform: 'fake', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] };

/** A request for the behaviour `name`, with `rows` rows. */
export function behaviour(name: string, rows = 1): { inputs: { name: string; datatype: 'FP32'; shape: number[]; data: Float32Array }[] } {
  return { inputs: [{ name, datatype: 'FP32', shape: [rows, 4], data: new Float32Array(rows * 4) }] };
}

export async function startFakeV2Server(metadata: object = METADATA): Promise<FakeV2Server> {
  const received: Record<string, number> = {};
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v2/models/m') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v2/models/m/infer') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${req.method} ${req.url}`, reason: 'MODEL_NOT_FOUND' }));
        return;
      }
      const body = Buffer.concat(chunks).toString('latin1');
      const name = /"name":"([a-z]+)"/.exec(body)?.[1] ?? 'ok';
      received[name] = (received[name] ?? 0) + 1;
      const json = { 'content-type': 'application/json' };
      switch (name) {
        case 'busy':
          res.writeHead(503, json).end(JSON.stringify({ error: 'queue is full', code: 'UNAVAILABLE', reason: 'QUEUE_FULL' }));
          return;
        case 'bad':
          res.writeHead(400, json).end(JSON.stringify({ error: 'bad input' }));
          return;
        case 'text':
          res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
          return;
        case 'chunked':
          res.writeHead(200, json);
          res.write(OK_RESPONSE.slice(0, 10));
          res.end(OK_RESPONSE.slice(10));
          return;
        case 'close':
          res.writeHead(200, { ...json, connection: 'close' }).end(OK_RESPONSE);
          return;
        case 'slow': {
          const t = setTimeout(() => {
            timers.delete(t);
            res.writeHead(200, json).end(OK_RESPONSE);
          }, 300);
          timers.add(t);
          return;
        }
        case 'reset':
          req.socket.destroy();
          return;
        case 'hang':
          return;
        default:
          res.writeHead(200, json).end(OK_RESPONSE);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
