// Which HTTP client should `sibyl bench` use? Drives the bare server (bench/servers/
// bare-node-http.ts, already running on :8010) for 8 s with 64 keep-alive connections using
// (a) node:http with a keep-alive Agent (maxSockets 64) and (b) runBench's raw-socket client,
// and prints req/s and the generator's own CPU time per request (process.cpuUsage), the number
// that decides whether the generator or the server saturates first.
//   npx tsx bench/servers/client-cpu-probe.ts [agent|raw|raw-workers]
import http from 'node:http';
import { runBench } from '@sibyl/bench';

const which = process.argv[2] ?? 'raw';
const body = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[0.5,0.25,0.125,0.75]}]}';
const seconds = 8;

async function agent(): Promise<number> {
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: 8010, path: '/v2/models/m/infer', method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (performance.now() < end) {
        await one();
        done++;
      }
    }),
  );
  keepAlive.destroy();
  return done;
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
let requests: number;
if (which === 'agent') requests = await agent();
else {
  const r = await runBench({ url: 'http://127.0.0.1:8010', model: 'm', concurrency: 64, warmupSeconds: 0, durationSeconds: seconds, workers: which === 'raw-workers' ? 2 : 1 });
  requests = r.counts.completed;
}
const cpu = process.cpuUsage(cpu0);
const elapsed = (performance.now() - t0) / 1000;
console.log(
  `${which}: ${(requests / elapsed).toFixed(0)} req/s; generator CPU per request: user ${(cpu.user / requests).toFixed(1)} µs + system ${(cpu.system / requests).toFixed(1)} µs = ${((cpu.user + cpu.system) / requests).toFixed(1)} µs`,
);
