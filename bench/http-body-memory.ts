// Issue 13 (M1): what large JSON request bodies cost the server in resident memory. Starts
// `sibyl serve` on the bundled examples, sends one ~60 MB V2 JSON request to iris, then several at
// once (--at-once, default 4), and reads the server's RSS and peak RSS (VmHWM, reset between phases) from /proc.
//
//   npx tsx bench/http-body-memory.ts [--mode refused|infer] [--bytes 60000000] [--at-once 4] [--retry] [-- <serve flags>]
//
// mode refused (default): the body decodes but names an output iris does not have (400 after the
// decode): the cost of receiving and decoding. mode infer: a valid request, run by the model.
// --retry: a request refused with 503 waits its Retry-After and is sent again (up to 100 times), as
// @sibyl/client does; the phase reports the final statuses and the attempts. Linux only (/proc).
// Prints one JSON line per phase.
import { writeFileSync } from 'node:fs';
import { spawnSibyl } from '../packages/server/src/testing/index.ts';
import { procStatusKb } from './scenario-tools.ts';

const args = process.argv.slice(2);
const dashdash = args.indexOf('--');
const serveFlags = dashdash < 0 ? [] : args.slice(dashdash + 1);
const own = dashdash < 0 ? args : args.slice(0, dashdash);
const opt = (name: string, fallback: string): string => {
  const i = own.indexOf(name);
  return i < 0 ? fallback : own[i + 1]!;
};
const mode = opt('--mode', 'refused');
const bytes = Number(opt('--bytes', '60000000'));
const atOnce = Number(opt('--at-once', '4'));
const retry = own.includes('--retry');

const MB = 1024 * 1024;
function memory(pid: number): { rssMb: number; peakMb: number } {
  return { rssMb: Math.round(procStatusKb(pid, 'VmRSS') / 1024), peakMb: Math.round(procStatusKb(pid, 'VmHWM') / 1024) };
}
/** Resets VmHWM to the current RSS (Linux ≥ 4.0). */
const resetPeak = (pid: number): void => writeFileSync(`/proc/${pid}/clear_refs`, '5');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A V2 request of about `size` bytes: iris rows of 4 features, as flat JSON numbers. */
function body(size: number, id: string): Buffer {
  const row = '5.1,3.5,1.4,0.2,';
  const rows = Math.floor((size - 200) / row.length);
  const data = row.repeat(rows).slice(0, -1);
  const outputs = mode === 'refused' ? ',"outputs":[{"name":"no_such_output"}]' : '';
  return Buffer.from(`{"id":"${id}","inputs":[{"name":"features","datatype":"FP32","shape":[${rows},4],"data":[${data}]}]${outputs}}`);
}

const server = await spawnSibyl(['--state-store', ':memory:', ...serveFlags], { timeoutMs: 60_000 });
const pid = server.process.pid!;
try {
  const meta = (await (await fetch(`${server.url}/v2/models/iris`)).json()) as { inputs: { name: string }[] };
  if (meta.inputs[0]?.name !== 'features') throw new Error(`iris's input is ${meta.inputs[0]?.name}; update the script`);
  const payload = body(bytes, 'r');
  let attempts = 0;
  const send = async (): Promise<number> => {
    for (let i = 0; ; i++) {
      attempts += 1;
      const res = await fetch(`${server.url}/v2/models/iris/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
      await res.arrayBuffer();
      const after = Number(res.headers.get('retry-after') ?? NaN);
      if (!retry || res.status !== 503 || Number.isNaN(after) || i >= 100) return res.status;
      await sleep(after * 1000);
    }
  };
  await sleep(1000);
  const report = (phase: string, extra: Record<string, unknown> = {}): void => console.log(JSON.stringify({ phase, mode, bodyMb: +(payload.length / MB).toFixed(1), ...memory(pid), ...extra }));
  report('idle');
  resetPeak(pid);
  const one = await send();
  report('after 1 request', { statuses: [one] });
  await sleep(2000);
  report('2 s later');
  resetPeak(pid);
  attempts = 0;
  const started = performance.now();
  const statuses = await Promise.all(Array.from({ length: atOnce }, send));
  report(`after ${atOnce} at once`, { statuses, attempts, seconds: +((performance.now() - started) / 1000).toFixed(1) });
  await sleep(5000);
  report('5 s later');
} finally {
  await server.stop();
}
