// Issue 15 (item 9): a bounded fuzz run against the live server. Starts `sibyl serve` (the real
// binary, on 127.0.0.1, the bundled example models) and sends fuzzed requests until --requests
// are sent or --seconds pass: mutated valid V2 JSON, binary-extension and TF Serving bodies,
// mutated management bodies, random paths (names with "..", %2F, NUL, overlong), methods,
// headers and encodings (gzip, deflate, garbage), and mutated gRPC ModelInfer messages over
// HTTP/2. Records requests tried, statuses, every 5xx (or gRPC INTERNAL/UNKNOWN) with a sample of
// the request, whether the server exited, and its peak RSS (VmHWM) and sampled RSS. Loopback only.
//
//   npx tsx bench/fuzz/run.ts [--requests 100000] [--seconds 240] [--concurrency 32] [--seed 1] [--out bench/results]
//
// Writes <out>/<date>-fuzz.json and .md. Exit code 1 when a 5xx or a crash was seen.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type ClientHttp2Session } from 'node:http2';
import { deflateSync, gzipSync } from 'node:zlib';
import { spawnSibyl } from '../../packages/server/src/testing/index.ts';
import { machine, procStatusKb } from '../scenario-tools.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1]!;
};
const MAX_REQUESTS = Number(opt('--requests', '100000'));
const MAX_SECONDS = Number(opt('--seconds', '240'));
const CONCURRENCY = Number(opt('--concurrency', '32'));
const SEED = Number(opt('--seed', '1'));
const OUT = opt('--out', 'bench/results');

// A seeded PRNG (mulberry32): a run is reproducible from its seed (up to the interleaving of responses).
let state = SEED >>> 0;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const chance = (p: number): boolean => random() < p;

// ---- inputs ----------------------------------------------------------------------------------

const NAMES = ['iris', 'breast_cancer', 'tabular_mlp', 'nope', '..', '.', '../../etc', '..%2F..%2Fetc', '%2E%2E', 'a%00b', 'a%5Cb', '%2Fetc%2Fpasswd', 'x'.repeat(300), 'y'.repeat(1100), '%E0%A4%A', 'iris%0A', 'é', '*', 'iris:predict'];
const VERSIONS = ['1', '2', '0', '-1', '..', 'abc', '99999999999999999999', '1.5'];
const TOKENS = ['[', ']', '{', '}', '"', ',', ':', '\\', '\u0000', 'null', 'true', '-1', '1e999', '-0', '9007199254740993', '1e9', 'NaN', '"BYTES"', '"FP16"', '[1e9,1e9]', '"binary_data_size"', '"sibyl_variant"', '\uD800', '{"b64":"!!"}'];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''];

const irisRows = (n: number): number[][] => Array.from({ length: n }, () => [5.1, 3.5, 1.4, 0.2]);
const v2Json = (): string =>
  JSON.stringify({
    id: 'r1',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: irisRows(2).flat() }],
    outputs: chance(0.5) ? [{ name: 'probabilities', parameters: { binary_data: chance(0.5) } }] : undefined,
    parameters: chance(0.3) ? { timeout: 10_000_000, priority: 0 } : undefined,
  });
function v2Binary(): { body: Buffer; headerLength: number } {
  const data = Buffer.from(new Float32Array(irisRows(2).flat()).buffer);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: data.length } }] }));
  return { body: Buffer.concat([header, data]), headerLength: header.length };
}
const tfBody = (): string => JSON.stringify(chance(0.5) ? { instances: irisRows(2) } : { signature_name: 'serving_default', inputs: { features: irisRows(1) } });
const managementBodies = [
  '{"parameters":{"config":{"maxBatchSize":4}}}',
  '{"version":1}',
  '{"target":{"model":"iris"}}',
  '{"split":{"arms":[{"name":"a","weight":1,"model":"iris","version":1}]}}',
  '{"level":"info"}',
  '{"keys":["a","b"]}',
  '{"jobFile":"job.yaml"}',
  '{"spec":{"name":"j","source":{"csv":"x.csv"},"key":"k","inputs":{"x":{"column":"c"}},"target":{"model":"iris"}}}',
];

/** `body` mutated a few times: bytes flipped, inserted, deleted, duplicated, tokens spliced in, truncated. */
function mutate(body: Buffer): Buffer {
  let b = Buffer.from(body);
  const rounds = int(4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : int(b.length);
    switch (int(7)) {
      case 0:
        if (b.length > 0) b[at] = int(256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(TOKENS)), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(8)))]);
        break;
      case 3: {
        const end = Math.min(b.length, at + 1 + int(32));
        b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        break;
      }
      case 4:
        b = b.subarray(0, at);
        break;
      case 5: {
        // A number replaced by an extreme one.
        const text = b.toString('latin1').replace(/-?\d+(\.\d+)?/, pick(['1e9', '-1', '4294967296', '1e309', '0', '2147483648', '99999999999']));
        b = Buffer.from(text, 'latin1');
        break;
      }
      default:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256))), b.subarray(at)]);
    }
  }
  return b;
}

interface HttpCase {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

function httpCase(): HttpCase {
  const name = chance(0.75) ? pick(NAMES.slice(0, 3)) : pick(NAMES);
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  let path: string;
  let kind: string;
  let method = 'POST';
  const r = random();
  if (r < 0.35) {
    kind = 'v2-json';
    path = chance(0.8) ? `/v2/models/${name}/infer` : `/v2/models/${name}/versions/${pick(VERSIONS)}/infer`;
    body = chance(0.1) ? Buffer.from(v2Json()) : mutate(Buffer.from(v2Json()));
  } else if (r < 0.55) {
    kind = 'v2-binary';
    path = `/v2/models/${name}/infer`;
    const { body: whole, headerLength } = v2Binary();
    body = chance(0.1) ? whole : mutate(whole);
    headers['inference-header-content-length'] = chance(0.8) ? String(headerLength) : pick(['0', '-1', String(2 ** 31), 'abc', String(headerLength + int(20) - 10), '']);
  } else if (r < 0.7) {
    kind = 'tfserving';
    path = chance(0.8) ? `/v1/models/${name}:predict` : `/v1/models/${name}/versions/${pick(VERSIONS)}:predict`;
    body = mutate(Buffer.from(tfBody()));
  } else if (r < 0.82) {
    kind = 'management';
    method = pick(['POST', 'PUT', 'GET', 'DELETE']);
    // Never unload or delete the served models: their requests would then be 503 MODEL_NOT_READY by design.
    const target = method === 'DELETE' || chance(0.5) ? pick(NAMES.slice(3)) : name;
    path = pick([
      `/v2/repository/models/${target}/load`,
      `/v2/repository/models/${target}/labels/${pick(['stable', 'canary', '..', 'a%2Fb'])}`,
      `/v1/endpoints/${pick(['fuzz-e', '..', 'a%2Fb', 'x'.repeat(300)])}`,
      `/v1/predictions/${name}/lookup`,
      `/v1/predictions/${name}/${pick(['k', '..', '%00'])}`,
      '/v2/logging',
      '/v1/batch/jobs',
      `/v1/models/${name}/drift`,
      '/v2/repository/index',
    ]);
    body = method === 'GET' || method === 'DELETE' ? undefined : mutate(Buffer.from(pick(managementBodies)));
    if (path === '/v2/logging' && body !== undefined) body = Buffer.from('{"level":"info"}');
  } else {
    kind = 'random-path';
    method = pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    path = pick(['/v2', '/v2/models', `/v2/models/${name}`, `/v2/models/${name}/ready`, '/v2/health/ready', '/metrics', '/v1/models', `/${pick(TOKENS)}`, '/%', '/v2/models/%E0%A4%A/infer', `/v2/models/${name}/infer?${'a=1&'.repeat(int(50))}`]);
    if (method !== 'GET' && method !== 'HEAD' && chance(0.5)) body = mutate(Buffer.from(v2Json()));
  }
  if (body !== undefined) {
    headers['content-type'] = chance(0.8) ? 'application/json' : pick(CONTENT_TYPES);
    const e = random();
    if (e < 0.08) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
      if (chance(0.3)) body = mutate(body);
    } else if (e < 0.12) {
      body = deflateSync(body);
      headers['content-encoding'] = 'deflate';
    } else if (e < 0.14) {
      headers['content-encoding'] = pick(['br', 'gzip', 'identity', 'x-gzip', 'compress']);
    } else if (e < 0.15) {
      // A small gzip bomb: 64 MiB of spaces.
      body = BOMB;
      headers['content-encoding'] = 'gzip';
    }
  }
  if (chance(0.05)) headers['x-request-id'] = pick(['a'.repeat(300), 'ok-id', '\u00e9', '']);
  if (chance(0.03)) headers['x-filler'] = 'f'.repeat(int(20_000));
  if (chance(0.05)) headers['traceparent'] = pick(['00-xyz', '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-01', 'garbage']);
  return { kind, method, path, headers, body };
}

const BOMB = gzipSync(Buffer.alloc(64 * 2 ** 20, 0x20), { level: 9 });

// ---- gRPC: ModelInferRequest encoded by hand (protobuf wire format) ---------------------------

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 127) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
const field = (number: number, payload: Buffer): Buffer => Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);
function grpcInferMessage(model: string): Buffer {
  const shape = Buffer.concat([varint(2), varint(4)]);
  const input = Buffer.concat([field(1, Buffer.from('features')), field(2, Buffer.from('FP32')), field(3, shape)]);
  const raw = Buffer.from(new Float32Array(irisRows(2).flat()).buffer);
  return Buffer.concat([field(1, Buffer.from(model)), field(5, input), field(7, raw)]);
}
const grpcFrame = (message: Buffer): Buffer => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
};

// ---- the run ---------------------------------------------------------------------------------

interface Failure {
  kind: string;
  status: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  bodyBase64?: string;
  response?: string;
}

async function main(): Promise<void> {
  const server = await spawnSibyl(['--host', '127.0.0.1']);
  const pid = server.process.pid!;
  const url = new URL(server.url);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let grpc: ClientHttp2Session = connect(`http://${server.grpcAddress}`);
  grpc.on('error', () => undefined);

  const statuses: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  const failures: Failure[] = [];
  let sent = 0;
  let serverErrors = 0;
  let shed = 0;
  let deadlines = 0;
  let transportErrors = 0;
  let crashed: number | null | undefined;
  void server.exited.then((code) => (crashed = code));
  let maxRssKb = 0;
  const sampler = setInterval(() => (maxRssKb = Math.max(maxRssKb, procStatusKb(pid, 'VmRSS'))), 100);
  const startRssKb = procStatusKb(pid, 'VmRSS');
  const started = performance.now();
  const deadline = started + MAX_SECONDS * 1000;

  const count = (kind: string, status: string): void => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  };

  function sendHttp(c: HttpCase): Promise<void> {
    return new Promise((resolve) => {
      const headers = { ...c.headers, ...(c.body === undefined ? {} : { 'content-length': String(c.body.length) }) };
      let req;
      try {
        req = httpRequest({ host: url.hostname, port: url.port, method: c.method, path: c.path, headers, agent, timeout: 30_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.length < 4 && chunks.push(chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString();
            // Load shedding, not a failure: the body budget (http.inflightBodyBytes) refusing a body
            // while concurrent decompression bombs hold it, with Retry-After. Counted on its own.
            if (status === 503 && text.includes('"BODY_BUDGET_EXHAUSTED"')) {
              count(c.kind, '503 BODY_BUDGET_EXHAUSTED');
              shed += 1;
              resolve();
              return;
            }
            // The caller's own deadline (a mutated `timeout` parameter, in µs) passing: an answer
            // to what it asked, counted on its own.
            if (status === 504 && text.includes('"DEADLINE_EXCEEDED"') && c.body?.includes('timeout') === true) {
              count(c.kind, '504 DEADLINE_EXCEEDED (client timeout parameter)');
              deadlines += 1;
              resolve();
              return;
            }
            count(c.kind, String(status));
            if (status >= 500) {
              serverErrors += 1;
              if (failures.length < 50) failures.push({ kind: c.kind, status: String(status), method: c.method, path: c.path.slice(0, 300), headers: c.headers, bodyBase64: c.body?.subarray(0, 300).toString('base64'), response: text.slice(0, 500) });
            }
            resolve();
          });
          res.on('error', () => resolve());
        });
      } catch {
        // A header value Node refuses to send (the client's own check): not sent.
        count(c.kind, 'client-refused');
        resolve();
        return;
      }
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The server may close a connection after a refusal (413 Connection: close, 431, 400 on a
        // malformed request) while the body is still being written: not a server error.
        transportErrors += 1;
        count(c.kind, `transport:${err.code ?? err.message}`);
        resolve();
      });
      req.end(c.body);
    });
  }

  function sendGrpc(): Promise<void> {
    const model = chance(0.8) ? 'iris' : pick(NAMES);
    let message = grpcInferMessage(model);
    if (chance(0.9)) message = mutate(message);
    let frame = grpcFrame(message);
    if (chance(0.05)) frame = mutate(frame);
    return new Promise((resolve) => {
      if (grpc.closed || grpc.destroyed) {
        grpc = connect(`http://${server.grpcAddress}`);
        grpc.on('error', () => undefined);
      }
      let stream;
      try {
        stream = grpc.request({ ':method': 'POST', ':path': chance(0.95) ? '/inference.GRPCInferenceService/ModelInfer' : pick(['/inference.GRPCInferenceService/ModelMetadata', '/inference.GRPCInferenceService/ModelReady', '/x/y']), 'content-type': 'application/grpc', te: 'trailers' });
      } catch {
        count('grpc', 'transport:session');
        resolve();
        return;
      }
      let status = '';
      stream.on('response', (h) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      });
      stream.on('trailers', (t) => (status = String(t['grpc-status'] ?? status)));
      stream.on('data', () => undefined);
      stream.setTimeout(30_000, () => stream.close());
      const done = (): void => {
        count('grpc', `grpc:${status || 'none'}`);
        // INTERNAL (13) and UNKNOWN (2) are a gRPC server's 500.
        if (status === '13' || status === '2') {
          serverErrors += 1;
          if (failures.length < 50) failures.push({ kind: 'grpc', status: `grpc:${status}`, bodyBase64: frame.subarray(0, 300).toString('base64') });
        }
        resolve();
      };
      stream.on('close', done);
      stream.on('error', () => undefined);
      stream.end(frame);
    });
  }

  async function worker(): Promise<void> {
    while (sent < MAX_REQUESTS && performance.now() < deadline && crashed === undefined) {
      sent += 1;
      if (chance(0.15)) await sendGrpc();
      else await sendHttp(httpCase());
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);

  const crashedDuringRun = crashed !== undefined;
  // The server is still live and answers a valid request (once the requests in flight are done).
  let liveAfter = false;
  let liveAfterStatus: string;
  let heldBodyBytesAfter: number | undefined;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  try {
    const res = await fetch(`${server.url}/v2/models/iris/infer`, { method: 'POST', body: v2Json(), headers: { 'content-type': 'application/json' } });
    liveAfterStatus = `${res.status} ${(await res.text()).slice(0, 200)}`;
    liveAfter = res.status === 200;
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    heldBodyBytesAfter = Number(/^sibyl_http_body_budget_held_bytes (\S+)$/m.exec(metrics)?.[1]);
  } catch (err) {
    liveAfterStatus = String(err);
  }
  const peakRssKb = procStatusKb(pid, 'VmHWM');
  const endRssKb = procStatusKb(pid, 'VmRSS');
  grpc.close();
  agent.destroy();
  const exitCode = crashed === undefined ? await server.stop() : crashed;

  const date = new Date().toISOString().slice(0, 10);
  const result = {
    date: new Date().toISOString(),
    command: `npx tsx bench/fuzz/run.ts ${args.join(' ')}`.trim(),
    machine: machine(),
    seed: SEED,
    concurrency: CONCURRENCY,
    requestsTried: sent,
    seconds: Math.round(seconds * 10) / 10,
    requestsPerSecond: Math.round(sent / seconds),
    byKind: kinds,
    statuses,
    serverErrors,
    bodyBudgetShed: shed,
    clientDeadlinesExceeded: deadlines,
    transportErrors,
    crashed: crashedDuringRun,
    exitCodeAfterStop: exitCode,
    liveAfter,
    liveAfterStatus,
    heldBodyBytesAfter,
    rssMb: { atStart: Math.round(startRssKb / 1024), maxSampled: Math.round(maxRssKb / 1024), peakVmHWM: Math.round(peakRssKb / 1024), atEnd: Math.round(endRssKb / 1024) },
    failures,
    // What the server wrote last, when it exited during the run.
    crashOutput: !crashedDuringRun ? undefined : { stderr: server.output.stderr.slice(-4000), lastLogs: server.logs.slice(-5) },
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/${date}-fuzz.json`, JSON.stringify(result, null, 2) + '\n');
  const rows = Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `| ${s} | ${n} |`)
    .join('\n');
  writeFileSync(
    `${OUT}/${date}-fuzz.md`,
    `# Fuzz run against the live server (${date})

Command: \`${result.command}\` — ${result.date}
Machine: ${result.machine.cpu ?? 'unknown CPU'}, ${result.machine.cores} cores, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}.
The server: \`sibyl serve\` on 127.0.0.1 with the bundled example models and default limits.

| figure | value |
| --- | --- |
| requests tried | ${sent} (${result.requestsPerSecond}/s over ${result.seconds} s, concurrency ${CONCURRENCY}, seed ${SEED}) |
| by kind | ${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')} |
| 5xx (and gRPC INTERNAL/UNKNOWN), load shedding excluded | ${serverErrors} |
| 504 DEADLINE_EXCEEDED for a request whose own \`timeout\` parameter passed | ${deadlines} |
| 503 BODY_BUDGET_EXHAUSTED with Retry-After (the body budget shedding while bombs hold it) | ${shed} |
| crashes (server exited during the run) | ${result.crashed ? 1 : 0} |
| live after the run (a valid inference answered 200) | ${liveAfter ? 'yes' : 'NO'} |
| server RSS: at start / max sampled (100 ms) / peak VmHWM / at end | ${result.rssMb.atStart} / ${result.rssMb.maxSampled} / ${result.rssMb.peakVmHWM} / ${result.rssMb.atEnd} MB |
| transport errors (connection closed by the server after a refusal, client-side) | ${transportErrors} |

Statuses (HTTP status, \`grpc:<code>\`, or \`transport:<error>\`):

| status | count |
| --- | --- |
${rows}

${failures.length === 0 && !result.crashed ? 'No 5xx and no crash.' : `Failures (first ${failures.length}) are listed in ${date}-fuzz.json.`}
`,
  );
  console.log(JSON.stringify({ ...result, failures: failures.length }));
  process.exitCode = serverErrors > 0 || result.crashed ? 1 : 0;
}

await main();
