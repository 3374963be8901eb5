// The public status of every version of one model, decided once per change from what the model
// knows (pure): each version's own status (version-status.ts), then the default route's reason
// when the route is not what those statuses imply. The model writes the result in one pass.
import type { VersionPhase } from './lifecycle.ts';
import type { EffectiveLabel } from './labels.ts';
import type { VersionStatus } from './model-state.ts';
import { defaultRoute, type Routable } from './version-selection.ts';
import { versionStatus } from './version-status.ts';

/** What the model knows of one version, for its status. */
export interface VersionView {
  version: number;
  phase: VersionPhase;
  dormant: boolean;
  /** READY and loading a new generation with changed files. */
  reloading: boolean;
  note: string;
  failure: string | undefined;
  reloadFailure: string | undefined;
  incompatibility: string | undefined;
}

export interface ModelView {
  model: string;
  versions: readonly VersionView[];
  desired: ReadonlySet<number>;
  /** What the policy and labels select, in words. */
  selection: string;
  wanted: boolean;
  /** The model's folder is there. */
  exists: boolean;
  present: readonly number[];
  /** The model has no usable config: its problem. */
  configProblem: string | undefined;
  labels: ReadonlyMap<string, EffectiveLabel>;
}

export type DecidedStatus = Omit<VersionStatus, 'version'>;

interface Decided extends Routable {
  status: DecidedStatus;
}

/** Every version's status, by version; and the default route under them. */
export function decideStatuses(m: ModelView): { statuses: Map<number, DecidedStatus>; route: number | undefined } {
  const sortedDesired = [...m.desired].sort((a, b) => a - b);
  const phases = new Map(m.versions.map((v) => [v.version, v.phase]));
  const allFailed = m.desired.size > 0 && sortedDesired.every((v) => phases.get(v) === 'FAILED');
  const decided = new Map<number, Decided>();
  for (const v of m.versions) {
    const isDesired = m.desired.has(v.version);
    const status = versionStatus({
      model: m.model,
      phase: v.phase,
      desired: isDesired,
      dormant: v.dormant,
      reloading: v.reloading,
      fallbackFor: !isDesired && allFailed ? sortedDesired : undefined,
      held: !isDesired && m.desired.size === 0 && m.wanted && m.exists,
      note: v.note,
      failure: v.failure,
      reloadFailure: v.reloadFailure,
      configProblem: m.configProblem,
      wanted: m.wanted,
      present: m.present.includes(v.version),
      selection: m.selection,
      incompatibility: v.incompatibility,
      version: v.version,
    });
    decided.set(v.version, { version: v.version, status, incompatibility: v.incompatibility });
  }
  const route = defaultRoute({ model: m.model, records: decided, labels: m.labels, present: m.present });
  if (route !== undefined) explainDefaultRoute(route, [...decided.values()], m);
  return { statuses: new Map([...decided].map(([v, d]) => [v, d.status])), route: route?.version };
}

/**
 * When the default route is not what the statuses imply (a version kept for the default traffic
 * while the desired ones are incompatible, or an incompatible version serving it for want of a
 * compatible one), its reason says so.
 */
function explainDefaultRoute(route: Decided, all: readonly Decided[], m: ModelView): void {
  if (route.status.state !== 'READY') return;
  const heldBack = all.filter((d) => m.desired.has(d.version) && d.status.state === 'READY' && d.incompatibility !== undefined).map((d) => d.version);
  if (route.incompatibility !== undefined && m.labels.get('stable')?.version !== route.version) {
    route.status = { ...route.status, reason: `takes the default traffic, as no compatible version can serve (${route.incompatibility})` };
  } else if (!m.desired.has(route.version) && heldBack.length > 0 && route.status.reason === '') {
    route.status = { ...route.status, reason: `takes the default traffic: version${heldBack.length > 1 ? 's' : ''} ${heldBack.sort((a, b) => a - b).join(', ')} not routed by default (incompatible signature)` };
  }
}
