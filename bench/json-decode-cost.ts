// Issue 13 (M1): what decoding a V2 JSON request costs in memory, per body byte — the figure the
// body budget (http.inflightBodyBytes, packages/server/src/core/body-cost.ts) charges a
// JSON body. Each case runs in a fresh `node` process: build a body of --bytes bytes, collect
// garbage, reset the peak RSS (VmHWM), decode it with the protocol codec (decodeInferRequest:
// UTF-8 text, JSON.parse, typed arrays), and report the peak RSS above the baseline and the V8 heap
// used at the end (before any collection), both per body byte. The body's own buffer is allocated
// before the baseline and is not in the figures (the budget counts it on top: 1×).
//
//   npx tsx bench/json-decode-cost.ts [--bytes 16000000] [--case name]
//
// Linux only (/proc). Prints one JSON line per case.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { procStatusKb } from './scenario-tools.ts';

const CASES: Record<string, { datatype: string; element: string; note: string }> = {
  'fp32-iris': { datatype: 'FP32', element: '5.1,3.5,1.4,0.2', note: 'iris rows: short decimals (4 characters per value)' },
  'fp32-long': { datatype: 'FP32', element: '0.123456789', note: 'long decimals (12 characters per value)' },
  'fp32-ints': { datatype: 'FP32', element: '1', note: 'one-digit numbers (2 characters per value): the most values per byte' },
  'fp64-short': { datatype: 'FP64', element: '0.5', note: 'short decimals into FP64 (8 bytes per value decoded)' },
  'int64-small': { datatype: 'INT64', element: '7', note: 'one-digit INT64 (2 characters per value, 8 bytes decoded)' },
  'int64-big': { datatype: 'INT64', element: '9007199254740993', note: 'integers past 2^53: the lossless re-parse' },
};

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const bytes = Number(opt('--bytes') ?? 16_000_000);
const only = opt('--case');

if (process.env.DECODE_COST_CHILD !== undefined) {
  const { decodeInferRequest } = await import('../packages/protocol/src/index.ts');
  const c = CASES[process.env.DECODE_COST_CHILD]!;
  const values = c.element.split(',');
  const per = c.element.length + 1;
  const count = Math.floor((bytes - 200) / per) * values.length;
  const data = `${c.element},`.repeat(count / values.length).slice(0, -1);
  const body = Buffer.from(`{"inputs":[{"name":"x","datatype":"${c.datatype}","shape":[${count}],"data":[${data}]}]}`);
  const statusBytes = (field: string): number => procStatusKb('self', field) * 1024;
  (globalThis as { gc?: () => void }).gc?.();
  const baseRss = statusBytes('VmRSS');
  const baseHeap = getHeapStatistics().used_heap_size;
  writeFileSync('/proc/self/clear_refs', '5');
  const started = performance.now();
  const request = decodeInferRequest(body);
  const ms = performance.now() - started;
  const peakRss = statusBytes('VmHWM') - baseRss;
  const heap = getHeapStatistics().used_heap_size - baseHeap;
  const tensorBytes = request.inputs.reduce((sum, t) => sum + (t.data as { byteLength: number }).byteLength, 0);
  console.log(
    JSON.stringify({
      case: process.env.DECODE_COST_CHILD,
      note: c.note,
      bodyMb: +(body.length / 1e6).toFixed(1),
      values: count,
      decodeMs: Math.round(ms),
      peakRssPerByte: +(peakRss / body.length).toFixed(2),
      heapUsedPerByte: +(heap / body.length).toFixed(2),
      tensorPerByte: +(tensorBytes / body.length).toFixed(2),
    }),
  );
} else {
  for (const name of Object.keys(CASES)) {
    if (only !== undefined && name !== only) continue;
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--bytes', String(bytes)], {
      env: { ...process.env, DECODE_COST_CHILD: name },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    process.stdout.write(out);
  }
}
