// Issue 7's shadow target: the primary's latency with a shadow on against off. One server with
// three endpoints on the tabular MLP: `plain` (version 1 alone), `shadow10` and `shadow100`
// (version 1, with 10% and 100% of requests copied to version 2). Runs alternate between them in
// rotating order on a fixed open-loop rate (the caller's latency at a given load, not the
// saturation throughput), medians compared. Writes bench/results/<date>-shadow.{json,md}.
//
//   npx tsx bench/shadow-overhead.ts [secondsPerRun=10] [repetitions=5] [rate=2000]
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSibyl } from '@sibyl/server/testing';
import { ROOT, bench, machine, type BenchSummary } from './scenario-tools.ts';

const seconds = Number(process.argv[2] ?? 10);
const repetitions = Number(process.argv[3] ?? 5);
const rate = Number(process.argv[4] ?? 2000);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'sibyl-shadow-'));
const artifact = path.join(ROOT, 'examples/models/tabular_mlp/1/model.onnx');

const repo = path.join(scratch, 'models');
for (const v of ['1', '2']) {
  mkdirSync(path.join(repo, 'tabular_mlp', v), { recursive: true });
  copyFileSync(artifact, path.join(repo, 'tabular_mlp', v, 'model.onnx'));
}
const endpoint = (fraction: number | undefined): string[] => [
  '    target: { model: tabular_mlp, version: 1 }',
  ...(fraction === undefined ? [] : [`    shadow: { target: { model: tabular_mlp, version: 2 }, fraction: ${fraction}, maxInFlight: 64 }`]),
];
const config = path.join(scratch, 'sibyl.yaml');
writeFileSync(
  config,
  ['modelRepository: models', 'stateStore: ":memory:"', 'endpoints:', '  plain:', ...endpoint(undefined), '  shadow10:', ...endpoint(0.1), '  shadow100:', ...endpoint(1), ''].join('\n'),
);

const server = await spawnSibyl(['--config', config, '--log-level', 'info'], { timeoutMs: 120_000 });
const MODES = ['plain', 'shadow10', 'shadow100'] as const;
type Mode = (typeof MODES)[number];
const runs: { mode: Mode; repetition: number; result: BenchSummary; shadow: unknown }[] = [];
const shadowCounts = async (mode: Mode): Promise<{ sent: number; dropped: number } | undefined> =>
  mode === 'plain' ? undefined : (((await (await fetch(`${server.url}/v1/endpoints/${mode}`)).json()) as { shadow: { sent: number; dropped: number } }).shadow);
for (let rep = 0; rep < repetitions; rep++) {
  const order = MODES.map((_, i) => MODES[(i + rep) % MODES.length]!);
  for (const mode of order) {
    const before = await shadowCounts(mode);
    const result = await bench(scratch, server.url, mode, undefined, seconds, ['--rate', String(rate), '--max-in-flight', '64']);
    const after = await shadowCounts(mode);
    const shadow = after === undefined ? undefined : { sent: after.sent - before!.sent, dropped: after.dropped - before!.dropped };
    runs.push({ mode, repetition: rep, result, shadow });
    console.error(`${mode} #${rep}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.errors} errors${shadow === undefined ? '' : `, shadow ${JSON.stringify(shadow)}`}`);
  }
}
await server.stop();
rmSync(scratch, { recursive: true, force: true });

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const med = (mode: Mode, key: keyof BenchSummary): number => median(runs.filter((r) => r.mode === mode).map((r) => r.result[key]));
/** Spread of the plain runs' p99: what "within noise" is measured against. */
const plainP99 = runs.filter((r) => r.mode === 'plain').map((r) => r.result.p99Ms);
const summary = Object.fromEntries(MODES.map((m) => [m, { requestsPerSecond: med(m, 'requestsPerSecond'), p50Ms: med(m, 'p50Ms'), p99Ms: med(m, 'p99Ms'), errors: runs.filter((r) => r.mode === m).reduce((n, r) => n + r.result.errors, 0) }]));
const date = new Date().toISOString();
const command = `npx tsx bench/shadow-overhead.ts ${seconds} ${repetitions} ${rate}`;
const load = os.loadavg();
const outDir = path.join(ROOT, 'bench/results');
mkdirSync(outDir, { recursive: true });
const base = path.join(outDir, `${date.slice(0, 10)}-shadow`);
writeFileSync(`${base}.json`, `${JSON.stringify({ date, machine: machine(), loadAverageAtEnd: load, command, runs, summary, plainP99Range: [Math.min(...plainP99), Math.max(...plainP99)] }, null, 2)}\n`);
const md = [
  `# Shadow overhead, ${date}`,
  '',
  `Machine: ${machine().cores} cores (${machine().cpu}), ${machine().memoryGiB} GiB, Node ${process.version}; load average at the end ${load.map((l) => l.toFixed(2)).join(', ')}.`,
  `Command: \`${command}\`. Tabular MLP, open loop at ${rate} req/s (up to 64 in flight), ${seconds} s per run after 2 s of warm-up; endpoints \`plain\`, \`shadow10\` and \`shadow100\` on one server, runs in rotating order.`,
  '',
  '| repetition | endpoint | req/s | p50 ms | p99 ms | errors | shadow copies (sent / dropped) |',
  '| ---: | --- | ---: | ---: | ---: | ---: | --- |',
  ...runs.map((r) => {
    const s = r.shadow as { sent: number; dropped: number } | undefined;
    return `| ${r.repetition} | ${r.mode} | ${Math.round(r.result.requestsPerSecond)} | ${r.result.p50Ms.toFixed(2)} | ${r.result.p99Ms.toFixed(2)} | ${r.result.errors} | ${s === undefined ? '' : `${s.sent} / ${s.dropped}`} |`;
  }),
  '',
  ...MODES.map((m) => `- ${m}: median p50 ${summary[m]!.p50Ms.toFixed(2)} ms, p99 ${summary[m]!.p99Ms.toFixed(2)} ms, ${Math.round(summary[m]!.requestsPerSecond)} req/s, ${summary[m]!.errors} errors.`),
  `- The plain runs' p99 ranged ${Math.min(...plainP99).toFixed(2)}–${Math.max(...plainP99).toFixed(2)} ms: the noise a shadow's p99 is compared with.`,
  '',
].join('\n');
writeFileSync(`${base}.md`, md);
console.log(md);
