// The SVG chart is well-formed XML and carries the p50, p99 and throughput series of the
// timeline; the recorder's per-second timeline feeds it.
import { describe, expect, it } from 'vitest';
import { Recorder } from '../src/recorder.ts';
import { buildResult } from '../src/result.ts';
import type { BenchResult } from '../src/result.ts';
import { escapeXml, niceStep, renderLatencyChart } from '../src/svg-chart.ts';
import { checkXml } from './xml.ts';

/** A result whose second i has `perSecond[i]` responses of latency (i+1) ms, (i+1)*10 ms for the slowest 2%. */
function resultWith(perSecond: number[], config: Record<string, unknown> = { model: 'm<&>', mode: { kind: 'closed', concurrency: 4 } }): BenchResult {
  const seconds = perSecond.length;
  const recorder = new Recorder(0, seconds * 1000);
  perSecond.forEach((n, s) => {
    for (let k = 0; k < n; k++) {
      const end = s * 1000 + ((k + 0.5) / n) * 1000;
      const latency = k < n * 0.98 ? s + 1 : (s + 1) * 10;
      recorder.onSent(end - latency);
      recorder.onResponse(end - latency, end - latency, end, 200, undefined, 1);
    }
  });
  return buildResult(recorder.data(), {
    config,
    requests: { inputs: undefined, distinct: 1, encoding: 'json', minBodyBytes: 10, maxBodyBytes: 10, rowsPerRequest: 1 },
    startedAt: new Date(0).toISOString(),
    interrupted: false,
    measuredSeconds: seconds,
    connections: 4,
    workers: 1,
    openLoop: false,
  });
}

describe('svg chart', () => {
  it('builds a per-second timeline from completion times', () => {
    const r = resultWith([100, 200, 0, 50]);
    expect(r.timeline.map((t) => t.completed)).toEqual([100, 200, 0, 50]);
    // Percentiles are bucket midpoints: within 1% of the recorded latency.
    const p50 = r.timeline.map((t) => t.p50Ms);
    expect(p50[2]).toBeNull();
    [1, 2, undefined, 4].forEach((ms, i) => ms !== undefined && expect(Math.abs(p50[i]! - ms) / ms).toBeLessThanOrEqual(0.01));
    expect(Math.abs(r.timeline[1]!.p99Ms! - 20) / 20).toBeLessThanOrEqual(0.01);
    expect(r.counts.ok).toBe(350);
  });

  it('is well-formed XML with p50 and p99 lines, throughput bars, axes and a legend', () => {
    const svg = renderLatencyChart(resultWith([100, 200, 150, 120, 180]));
    const { problems, elements } = checkXml(svg);
    expect(problems).toEqual([]);
    expect(elements[0]!.name).toBe('svg');
    expect(elements[0]!.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
    const group = (id: string) => {
      const start = elements.findIndex((e) => e.name === 'g' && e.attributes.id === id);
      expect(start, `group ${id}`).toBeGreaterThan(-1);
      return elements.slice(start + 1);
    };
    // One polyline per series (no gaps), with one point per second.
    for (const id of ['p50', 'p99']) {
      const line = group(id)[0]!;
      expect(line.name).toBe('polyline');
      expect(line.attributes.points!.split(' ')).toHaveLength(5);
    }
    // p99 sits above p50 (smaller y) in every second.
    const ys = (id: string) => group(id)[0]!.attributes.points!.split(' ').map((p) => Number(p.split(',')[1]));
    ys('p99').forEach((y, i) => expect(y).toBeLessThan(ys('p50')[i]!));
    expect(group('throughput').filter((e) => e.name === 'rect').length).toBeGreaterThanOrEqual(5);
    const texts = elements.filter((e) => e.name === 'text').map((e) => e.text);
    for (const label of ['latency (ms)', 'throughput (req/s)', 'time since warm-up (s)', 'p50 latency', 'p99 latency']) expect(texts).toContain(label);
    // The title is escaped.
    expect(svg).toContain('m&lt;&amp;&gt;');
  });

  it('breaks the lines where a second had no successful response', () => {
    const svg = renderLatencyChart(resultWith([100, 0, 100, 100]));
    const { problems, elements } = checkXml(svg);
    expect(problems).toEqual([]);
    const start = elements.findIndex((e) => e.attributes.id === 'p50');
    // A lone point before the gap, then a line of two points.
    expect(elements[start + 1]!.name).toBe('circle');
    expect(elements[start + 2]!.name).toBe('polyline');
  });

  it('still renders a run without any successful response', () => {
    const { problems } = checkXml(renderLatencyChart(resultWith([0, 0])));
    expect(problems).toEqual([]);
  });

  it('picks round tick steps and escapes XML', () => {
    expect([niceStep(10), niceStep(7), niceStep(0.9), niceStep(45_000)]).toEqual([2, 2, 0.2, 10_000]);
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
  });
});
