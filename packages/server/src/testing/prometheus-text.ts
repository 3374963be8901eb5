// Reading the Prometheus text format in tests and benchmarks: samples with their labels, metric
// families with their declared types, and histogram_quantile computed as Prometheus does.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses an exposition into families, in order. Sample lines are attached to the family they follow. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  let current: PromFamily | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      current = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
      families.set(name, current);
      if (kind === 'TYPE') current.type = rest;
      else current.help = rest;
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(LABEL)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3]);
    if (current === undefined) throw new Error(`sample before any # TYPE line: ${line}`);
    current.samples.push({ name: match[1]!, labels, value });
  }
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined if none. @throws if several. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = [...families.values()].find((f) => f.samples.some((s) => s.name === name));
  const matches = (family?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}

/**
 * Prometheus' histogram_quantile over cumulative buckets [(le, count)], +Inf last: linear
 * interpolation inside the bucket that holds the rank (the lowest bucket starts at 0).
 */
export function histogramQuantile(q: number, buckets: readonly { le: number; count: number }[]): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < sorted.length; i++) {
    const bucket = sorted[i]!;
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return sorted[i - 1]?.le ?? Number.NaN;
      const lower = i === 0 ? 0 : sorted[i - 1]!.le;
      const below = i === 0 ? 0 : sorted[i - 1]!.count;
      const inBucket = bucket.count - below;
      return inBucket === 0 ? bucket.le : lower + ((bucket.le - lower) * (rank - below)) / inBucket;
    }
  }
  return sorted.at(-1)!.le;
}

/** The cumulative buckets of histogram `name` for one label set (le parsed). */
export function histogramBuckets(families: Map<string, PromFamily>, name: string, labels: Record<string, string>): { le: number; count: number }[] {
  const family = families.get(name);
  return (family?.samples ?? [])
    .filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }));
}
