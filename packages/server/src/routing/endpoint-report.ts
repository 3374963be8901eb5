// The endpoint report: what each arm did (requests, errors, latency, outcome feedback with a
// significance test against the first arm), the canary's progress and history, the blue-green
// colour, shadow agreement, cascade stages, hybrid answers by source, fallbacks and breakers.
import type { Endpoint } from './endpoint.ts';
import { candidateShare } from './policies/canary.ts';
import { twoProportionTest } from './policies/significance.ts';
import { targetKey } from './target-call.ts';

export interface EndpointReport {
  name: string;
  description: string;
  source: 'file' | 'api';
  policy: string;
  config: unknown;
  arms: Record<string, unknown>;
  canary?: unknown;
  blueGreen?: unknown;
  shadow?: unknown;
  cascade?: unknown;
  hybrid?: unknown;
  fallback: unknown;
  breakers: Record<string, string>;
}

export function endpointReport(endpoint: Endpoint, source: 'file' | 'api'): EndpointReport {
  const { config } = endpoint;
  const p = config.policy;
  const control = endpoint.arms.values().next().value;
  const arms: Record<string, unknown> = {};
  for (const [name, stats] of endpoint.arms) {
    const report = stats.report();
    const test =
      control === undefined || control === stats
        ? undefined
        : twoProportionTest({ successes: control.successes, trials: control.outcomes }, { successes: stats.successes, trials: stats.outcomes });
    arms[name] = { ...report, ...(test === undefined ? {} : { versusControl: test }) };
  }
  const report: EndpointReport = {
    name: endpoint.name,
    description: config.description,
    source,
    policy: p.kind,
    config: config.document,
    arms,
    fallback: { answered: endpoint.caller.fallbacks, byReason: Object.fromEntries(endpoint.caller.fallbackReasons) },
    breakers: Object.fromEntries([...endpoint.caller.breakers].map(([key, b]) => [key, b.mode])),
  };
  if (p.kind === 'canary' && endpoint.canary !== undefined) {
    const c = endpoint.canary;
    report.canary = {
      status: c.status,
      stage: c.stage + 1,
      stages: p.stages,
      candidateShare: candidateShare(p, c),
      stageStartedAt: new Date(c.stageStartedMs).toISOString(),
      stable: targetKey(p.stable),
      candidate: targetKey(p.candidate),
      history: c.history.map((h) => ({ at: new Date(h.atMs).toISOString(), from: h.from, to: h.to, reason: h.reason })),
    };
  }
  if (p.kind === 'blueGreen') report.blueGreen = { active: endpoint.active, blue: targetKey(p.blue), green: targetKey(p.green) };
  if (config.shadow !== undefined) {
    const s = endpoint.shadowStats;
    report.shadow = {
      target: targetKey(config.shadow.target),
      fraction: config.shadow.fraction,
      sent: s.sent,
      dropped: s.dropped,
      failed: s.failed,
      compared: s.compared,
      rows: s.rows,
      sameTopClassRate: s.rows === 0 ? null : s.sameTopClass / s.rows,
      maxAbsDiff: s.compared === 0 ? null : s.maxAbsDiff,
      meanMaxAbsDiff: s.compared === 0 ? null : s.sumMaxAbsDiff / s.compared,
    };
  }
  if (p.kind === 'cascade') {
    report.cascade = { stages: p.stages.map((s, i) => ({ target: targetKey(s.target), threshold: s.threshold ?? null, rowsIn: endpoint.cascadeStats[i]!.rowsIn, answered: endpoint.cascadeStats[i]!.answered })) };
  }
  if (p.kind === 'hybrid' && endpoint.hybrid !== undefined) {
    const answers = [...endpoint.hybrid.counts].map(([k, count]) => {
      const [source, reason] = k.split(':') as [string, string];
      return { source, reason, count };
    });
    const bySource: Record<string, number> = { store: 0, live: 0, default: 0, none: 0 };
    for (const a of answers) bySource[a.source] = (bySource[a.source] ?? 0) + a.count;
    const key = p.key.parameter !== undefined ? { parameter: p.key.parameter } : p.key.header !== undefined ? { header: p.key.header } : { input: p.key.input };
    report.hybrid = { target: targetKey(p.target), storedModel: p.storedModel, key, maxAgeMs: p.maxAgeMs, hasDefault: p.default !== undefined, bySource, answers };
  }
  return report;
}
