// The human summary of a BenchResult (stdout): what ran, throughput, latency percentiles,
// counts, and errors by HTTP status / reason and by failure. Plain text, no ANSI, so that it
// reads the same in a terminal, a log and a pasted issue.
import { formatMs } from './progress.ts';
import type { BenchResult } from './result.ts';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const rate = (n: number): string => n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Rows as aligned columns: the first left-aligned, the others right-aligned unless `left` lists them. */
function table(rows: string[][], left: readonly number[] = [0]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}

function bytes(n: number): string {
  if (n < 10_000) return `${n} B`;
  if (n < 10_000_000) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatSummary(r: BenchResult): string {
  const c = r.config as { url: string; model: string; modelVersion?: string; mode: { kind: string; concurrency?: number; ratePerSecond?: number; arrival?: string; maxInFlight?: number }; warmupSeconds: number };
  const lines: string[] = [];
  const version = c.modelVersion === undefined ? '' : ` version ${c.modelVersion}`;
  lines.push(`sibyl bench: ${c.url}  model ${c.model}${version}${r.interrupted ? '  (interrupted)' : ''}`);
  const mode =
    c.mode.kind === 'closed'
      ? `closed loop, ${c.mode.concurrency} connection${c.mode.concurrency === 1 ? '' : 's'}`
      : `open loop, ${rate(c.mode.ratePerSecond ?? 0)} req/s ${c.mode.arrival} arrivals, max ${c.mode.maxInFlight} in flight (${r.connections} connections used)`;
  lines.push(`  load      ${mode}${r.workers > 1 ? `, ${r.workers} worker threads` : ''}; ${r.measuredSeconds.toFixed(1)} s measured after ${c.warmupSeconds} s warm-up`);
  const q = r.requests;
  const size = q.minBodyBytes === q.maxBodyBytes ? bytes(q.minBodyBytes) : `${bytes(q.minBodyBytes)}–${bytes(q.maxBodyBytes)}`;
  const inputs = q.inputs === undefined ? 'given requests' : q.inputs.map((i) => `${i.name} ${i.datatype}[${i.shape.join(',')}]`).join(', ');
  lines.push(`  requests  ${q.distinct} distinct ${q.encoding === 'binary' ? 'binary-extension' : 'JSON'} bod${q.distinct === 1 ? 'y' : 'ies'} of ${size}: ${inputs}`);
  lines.push('');

  lines.push('Throughput');
  const tput = [['requests/s', rate(r.throughput.requestsPerSecond), `(2xx: ${rate(r.throughput.okPerSecond)}/s)`]];
  if (q.rowsPerRequest > 1) tput.push(['rows/s', rate(r.throughput.rowsPerSecond), `(${q.rowsPerRequest % 1 === 0 ? q.rowsPerRequest : q.rowsPerRequest.toFixed(2)} rows per request)`]);
  lines.push(...table(tput, [0, 2]));
  lines.push('');

  const l = r.latency;
  lines.push(`Latency of 2xx responses, ms (write to last byte; ${int(l.count)} responses)`);
  if (l.count === 0) lines.push('  no successful responses');
  else {
    lines.push(
      ...table([
        ['p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'mean'],
        [l.p50Ms, l.p90Ms, l.p95Ms, l.p99Ms, l.p999Ms, l.maxMs, l.meanMs].map(formatMs),
      ]),
    );
  }
  if (r.sendLag !== undefined && r.sendLag.count > 0) {
    const s = r.sendLag;
    lines.push(`  send lag behind schedule: p50 ${formatMs(s.p50Ms)}  p99 ${formatMs(s.p99Ms)}  max ${formatMs(s.maxMs)}`);
  }
  lines.push('');

  const n = r.counts;
  lines.push('Counts');
  const counts = [
    ['sent', int(n.sent)],
    ['completed', int(n.completed)],
    ['2xx', int(n.ok)],
    ['HTTP errors', int(n.httpErrors)],
    ['failures (no response)', int(n.failures)],
  ];
  if (c.mode.kind === 'open') {
    counts.push(['not sent: max in flight reached', int(n.dropped)]);
    counts.push(['sent late (> 2 ms behind schedule)', int(n.late)]);
  }
  lines.push(...table(counts));

  const statuses = Object.entries(r.errors.byStatus);
  const failures = Object.entries(r.errors.byFailure);
  if (statuses.length > 0 || failures.length > 0) {
    lines.push('');
    lines.push('Errors');
    const rows: string[][] = [];
    for (const [status, t] of statuses.sort((a, b) => b[1].count - a[1].count)) {
      for (const [reason, rt] of Object.entries(t.reasons).sort((a, b) => b[1].count - a[1].count)) {
        rows.push([`HTTP ${status}`, reason === '' ? '(no reason)' : reason, int(rt.count), rt.example === '' ? '' : JSON.stringify(rt.example.slice(0, 100))]);
      }
    }
    for (const [name, f] of failures.sort((a, b) => b[1].count - a[1].count)) rows.push([name, '', int(f.count), JSON.stringify(f.example.slice(0, 100))]);
    lines.push(...table(rows, [0, 1, 3]));
  }
  return lines.join('\n') + '\n';
}
