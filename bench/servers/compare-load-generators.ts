// Runs wrk, autocannon and `sibyl bench` against the bare node:http server, interleaved for
// several rounds (the machine is shared, so single runs are noisy), and prints req/s and p99 of
// every run plus best / median / spread per tool, and each generator's CPU time per request
// (GNU time; for sibyl bench it includes start-up and the 2 s warm-up, so it is an upper
// bound), as Markdown. See bench/bench-tool-vs-wrk.md.
//   npx tsx bench/servers/compare-load-generators.ts [rounds=3] [autocannon binary]
// Needs `wrk` on PATH and autocannon installed outside the repository (default /tmp/ac).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 3);
const autocannon = process.argv[3] ?? '/tmp/ac/node_modules/.bin/autocannon';
const root = fileURLToPath(new URL('../..', import.meta.url));
const port = 8010;
const url = `http://127.0.0.1:${port}`;
const body = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[0.5,0.25,0.125,0.75]}]}';

interface Run {
  tool: string;
  rps: number;
  p99Ms: number;
  /** Generator CPU (user + system) per request, µs. */
  cpuUs: number;
}

/** Seconds each tool generates load (sibyl bench: 2 s warm-up + 10 s). */
const LOAD_SECONDS: Record<string, number> = { wrk: 10, autocannon: 10, 'sibyl bench': 12 };

const TOOLS: Record<string, { command: string[]; parse: (stdout: string) => { rps: number; p99Ms: number } }> = {
  wrk: {
    command: ['wrk', '-t1', '-c64', '-d10s', '--latency', '-s', 'bench/servers/post.lua', `${url}/v2/models/m/infer`],
    parse: (out) => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
      const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
      const unit = { us: 1e-3, ms: 1, s: 1e3 }[m?.[2] as 'us' | 'ms' | 's'] ?? NaN;
      return { rps, p99Ms: Number(m?.[1]) * unit };
    },
  },
  autocannon: {
    command: [autocannon, '-c', '64', '-d', '10', '-m', 'POST', '-H', 'content-type: application/json', '-b', body, '--json', `${url}/v2/models/m/infer`],
    parse: (out) => {
      const r = JSON.parse(out) as { requests: { total: number }; duration: number; latency: { p99: number } };
      return { rps: r.requests.total / r.duration, p99Ms: r.latency.p99 };
    },
  },
  'sibyl bench': {
    command: ['node', 'packages/bench/bin/sibyl-bench.js', '--url', url, '--model', 'm', '--concurrency', '64', '--duration-seconds', '10', '-q', '--output', '/tmp/sibyl-bench-compare.json'],
    parse: () => {
      const r = JSON.parse(readFileSync('/tmp/sibyl-bench-compare.json', 'utf8')) as { throughput: { requestsPerSecond: number }; latency: { p99Ms: number } };
      rmSync('/tmp/sibyl-bench-compare.json');
      return { rps: r.throughput.requestsPerSecond, p99Ms: r.latency.p99Ms };
    },
  },
};

const tools = (process.env.TOOLS?.split(',') ?? Object.keys(TOOLS)).filter((t) => t in TOOLS);
const server = spawn('node', ['--import', 'tsx', 'bench/servers/bare-node-http.ts', String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => server.stdout.once('data', () => resolve()));
const runs: Run[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const tool of tools) {
      const { command, parse } = TOOLS[tool]!;
      const res = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', ...command], { cwd: root, encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`${tool} failed (${res.status}): ${res.stderr}`);
      const { rps, p99Ms } = parse(res.stdout);
      const [, user, system] = /CPU ([\d.]+) ([\d.]+)/.exec(res.stderr) ?? [];
      const cpuUs = ((Number(user) + Number(system)) * 1e6) / (rps * LOAD_SECONDS[tool]!);
      runs.push({ tool, rps, p99Ms, cpuUs });
      process.stderr.write(`round ${round} ${tool}: ${rps.toFixed(0)} req/s, p99 ${p99Ms.toFixed(2)} ms, CPU ${cpuUs.toFixed(1)} µs/request\n`);
      await new Promise((r) => setTimeout(r, 2000)); // let the server settle between tools
    }
  }
} finally {
  server.kill('SIGTERM');
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log('| tool | runs: req/s (p99 ms) | best req/s | median req/s | spread (min–max) | median p99 ms | median CPU µs/request |');
console.log('| --- | --- | ---: | ---: | --- | ---: | ---: |');
for (const tool of tools) {
  const mine = runs.filter((r) => r.tool === tool);
  const rps = mine.map((r) => r.rps);
  console.log(
    `| ${tool} | ${mine.map((r) => `${r.rps.toFixed(0)} (${r.p99Ms.toFixed(2)})`).join(', ')} | ${Math.max(...rps).toFixed(0)} | ${median(rps).toFixed(0)} | ${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)} | ${median(mine.map((r) => r.p99Ms)).toFixed(2)} | ${median(mine.map((r) => r.cpuUs)).toFixed(1)} |`,
  );
}
