// A hand-written SVG chart of a run's timeline: per-second p50 and p99 latency (lines, left
// axis, ms) over per-second throughput (bars, right axis, req/s), time in seconds on the x axis.
// Self-contained (no scripts, no external fonts or styles), valid standalone SVG 1.1.
import type { BenchResult, TimelineEntry } from './result.ts';

const WIDTH = 960;
const HEIGHT = 480;
const MARGIN = { left: 72, right: 84, top: 64, bottom: 56 };
const COLORS = { p50: '#1f77b4', p99: '#d62728', throughput: '#c7d9ec', axis: '#333333', grid: '#e5e5e5' };

/** Escapes text for XML character data and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Tick step of about range/target, rounded to 1, 2 or 5 × 10^k. */
export function niceStep(range: number, target = 5): number {
  if (!(range > 0)) return 1;
  const raw = range / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ x (x > 0). */
function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/** Ticks 0, step, … up to the first multiple of step ≥ max (≥ one step). */
function ticks(max: number): number[] {
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
  const out: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 10_000) return `${Number((v / 1000).toPrecision(4))}k`;
  return String(Number(v.toPrecision(4)));
}

const f = (n: number): string => n.toFixed(1);

/** Polyline point lists for a series, split where the value is null (no successful response). */
function segments(timeline: readonly TimelineEntry[], value: (e: TimelineEntry) => number | null, x: (e: TimelineEntry) => number, y: (v: number) => number): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const e of timeline) {
    const v = value(e);
    if (v === null || !Number.isFinite(v)) {
      if (current.length > 0) out.push(current.join(' '));
      current = [];
      continue;
    }
    current.push(`${f(x(e))},${f(y(v))}`);
  }
  if (current.length > 0) out.push(current.join(' '));
  return out;
}

/** The chart for a result; `title` defaults to the model and load. */
export function renderLatencyChart(result: BenchResult, title?: string): string {
  const t = result.timeline;
  const c = result.config as { model?: string; mode?: { kind: string; concurrency?: number; ratePerSecond?: number } };
  const mode = c.mode?.kind === 'open' ? `open loop ${c.mode.ratePerSecond} req/s` : `closed loop, ${c.mode?.concurrency ?? '?'} connections`;
  const heading = title ?? `sibyl bench: ${c.model ?? ''} (${mode})`;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const duration = Math.max(1e-9, t.reduce((s, e) => s + e.seconds, 0));
  const maxLatency = Math.max(0, ...t.map((e) => e.p99Ms ?? 0));
  const maxRate = Math.max(0, ...t.map((e) => e.requestsPerSecond));
  const xTicks = ticks(duration).filter((v) => v <= duration + 1e-9);
  const yTicks = ticks(maxLatency);
  // The right axis gets as many intervals as the left one, so both share the grid lines.
  const intervals = yTicks.length - 1;
  const rStep = niceCeil(maxRate / intervals);
  const rTicks = Array.from({ length: intervals + 1 }, (_, i) => Number((i * rStep).toPrecision(12)));
  const yTop = yTicks.at(-1)!;
  const rTop = rTicks.at(-1)!;
  const xOf = (s: number): number => MARGIN.left + (s / duration) * plotW;
  const yOf = (ms: number): number => MARGIN.top + plotH - (ms / yTop) * plotH;
  const rOf = (rps: number): number => MARGIN.top + plotH - (rps / rTop) * plotH;
  const mid = (e: TimelineEntry): number => xOf(e.startSeconds + e.seconds / 2);
  const bottom = MARGIN.top + plotH;
  const right = MARGIN.left + plotW;

  const o: string[] = [];
  o.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<title>${escapeXml(heading)}</title>`);
  o.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  o.push(`<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(heading)}</text>`);

  // Grid and left (latency) axis.
  o.push(`<g id="latency-axis" stroke="${COLORS.axis}">`);
  for (const v of yTicks) {
    const y = f(yOf(v));
    o.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${right}" y2="${y}" stroke="${COLORS.grid}"/>`);
    o.push(`<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" stroke="none" fill="${COLORS.axis}">${label(v)}</text>`);
  }
  o.push(`</g>`);

  // Throughput bars (behind the lines), right axis.
  o.push(`<g id="throughput" fill="${COLORS.throughput}">`);
  for (const e of t) {
    const x0 = xOf(e.startSeconds);
    const w = Math.max(0.5, xOf(e.startSeconds + e.seconds) - x0 - 1);
    const y = rOf(e.requestsPerSecond);
    o.push(`<rect x="${f(x0 + 0.5)}" y="${f(y)}" width="${f(w)}" height="${f(bottom - y)}"><title>${label(e.startSeconds)}–${label(e.startSeconds + e.seconds)} s: ${e.requestsPerSecond.toFixed(1)} req/s</title></rect>`);
  }
  o.push(`</g>`);
  o.push(`<g id="throughput-axis">`);
  for (const v of rTicks) {
    o.push(`<text x="${right + 8}" y="${f(rOf(v))}" dominant-baseline="middle" fill="${COLORS.axis}">${label(v)}</text>`);
  }
  o.push(`</g>`);

  // Latency lines.
  for (const [id, value, color] of [
    ['p50', (e: TimelineEntry) => e.p50Ms, COLORS.p50],
    ['p99', (e: TimelineEntry) => e.p99Ms, COLORS.p99],
  ] as const) {
    o.push(`<g id="${id}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round">`);
    for (const points of segments(t, value, mid, yOf)) {
      o.push(points.includes(' ') ? `<polyline points="${points}"/>` : `<circle cx="${points.split(',')[0]}" cy="${points.split(',')[1]}" r="2.5" fill="${color}"/>`);
    }
    o.push(`</g>`);
  }

  // Frame, x axis.
  o.push(`<g id="time-axis" fill="${COLORS.axis}">`);
  o.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="${COLORS.axis}"/>`);
  for (const v of xTicks) {
    const x = f(xOf(v));
    o.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="${COLORS.axis}"/>`);
    o.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${label(v)}</text>`);
  }
  o.push(`</g>`);

  // Axis titles and legend.
  o.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle" fill="${COLORS.axis}">time since warm-up (s)</text>`);
  o.push(`<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="${COLORS.axis}">latency (ms)</text>`);
  o.push(`<text transform="translate(${WIDTH - 14} ${MARGIN.top + plotH / 2}) rotate(90)" text-anchor="middle" fill="${COLORS.axis}">throughput (req/s)</text>`);
  const legend: [string, string, boolean][] = [
    ['p50 latency', COLORS.p50, false],
    ['p99 latency', COLORS.p99, false],
    ['throughput', COLORS.throughput, true],
  ];
  o.push(`<g id="legend">`);
  legend.forEach(([text, color, box], i) => {
    const x = MARGIN.left + i * 150;
    const y = MARGIN.top - 16;
    o.push(box ? `<rect x="${x}" y="${y - 6}" width="20" height="12" fill="${color}"/>` : `<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    o.push(`<text x="${x + 26}" y="${y}" dominant-baseline="middle" fill="${COLORS.axis}">${escapeXml(text)}</text>`);
  });
  o.push(`</g>`);
  o.push(`</svg>`);
  return o.join('\n') + '\n';
}
