// The endpoint report (the JSON of GET /v1/endpoints/{e}), built from the endpoint's snapshot:
// what each arm did (requests, errors, latency, outcome feedback with a significance test against
// the first arm), the policy's own section (canary, blueGreen, cascade, hybrid: see its module in
// traffic/), shadow agreement, fallbacks and breakers.
import type { EndpointArmJson, EndpointReportJson } from '@sibyl/protocol';
import { armReport } from './arm-stats.ts';
import type { EndpointSnapshot } from './endpoint.ts';
import { twoProportionTest } from './policies/significance.ts';
import { trafficPolicyModule } from './traffic/registry.ts';

/** The report's JSON: the shape @sibyl/protocol declares for GET /v1/endpoints/{e}. */
export type EndpointReport = EndpointReportJson;

/** The report of an endpoint (anything with a snapshot: the Endpoint itself, or a stand-in in tests). */
export function endpointReport(endpoint: { snapshot(): EndpointSnapshot }, source: 'file' | 'api'): EndpointReport {
  const s = endpoint.snapshot();
  const control = s.arms[0]?.stats;
  const arms: Record<string, EndpointArmJson> = {};
  for (const { arm, stats } of s.arms) {
    const test =
      control === undefined || arm === s.arms[0]!.arm
        ? undefined
        : twoProportionTest({ successes: control.successes, trials: control.outcomes }, { successes: stats.successes, trials: stats.outcomes });
    arms[arm] = { ...armReport(stats), ...(test === undefined ? {} : { versusControl: test }) };
  }
  const report: EndpointReport = {
    name: s.name,
    description: s.description,
    source,
    policy: s.policy.kind,
    config: s.document,
    arms,
    fallback: { answered: s.fallback.answered, byReason: Object.fromEntries(s.fallback.byReason.map((r) => [r.reason, r.count])) },
    breakers: Object.fromEntries(s.breakers.map((b) => [b.target, b.mode])),
    ...trafficPolicyModule(s.policy.kind).report(s.policy),
  };
  if (s.shadow !== undefined) {
    const sh = s.shadow;
    report.shadow = {
      target: sh.target,
      fraction: sh.fraction,
      sent: sh.sent,
      dropped: sh.dropped,
      failed: sh.failed,
      compared: sh.compared,
      rows: sh.rows,
      sameTopClassRate: sh.rows === 0 ? null : sh.sameTopClass / sh.rows,
      maxAbsDiff: sh.compared === 0 ? null : sh.maxAbsDiff,
      meanMaxAbsDiff: sh.compared === 0 ? null : sh.sumMaxAbsDiff / sh.compared,
    };
  }
  return report;
}
