// A version's public state and reason, from what the model manager knows of it. Pure: the same
// facts always read the same way.
import type { VersionPhase } from './lifecycle.ts';
import type { VersionStatus } from './model-state.ts';

export interface VersionFacts {
  model: string;
  phase: VersionPhase;
  desired: boolean;
  dormant: boolean;
  /** READY and loading a new generation with changed files. */
  reloading: boolean;
  /** READY though nothing is desired (see ModelSnapshot.holdWhenNothingDesired): it serves on. */
  held: boolean;
  /** When every desired version failed and this READY one serves instead: those versions. */
  fallbackFor: readonly number[] | undefined;
  /** Why it was unloaded or is not loaded (`unloaded: …`, `evicted: …`), or ''. */
  note: string;
  failure: string | undefined;
  reloadFailure: string | undefined;
  /** The model has no usable config: its problem. */
  configProblem: string | undefined;
  wanted: boolean;
  present: boolean;
  /** What the policy and labels select, in words (see ManagedModel.desiredText). */
  selection: string;
  /** Why its signature keeps it from the default traffic (see VersionRecord.incompatibility). */
  incompatibility?: string;
  /** Its version number, for the hint on how to accept a signature change. */
  version?: number;
}

export function versionStatus(f: VersionFacts): Omit<VersionStatus, 'version'> {
  const status = baseStatus(f);
  // Known for a version loaded once (READY, or evicted and loading on demand).
  return f.incompatibility === undefined || (status.state !== 'READY' && status.loadsOnDemand !== true) ? status : { ...status, incompatibleSignature: f.incompatibility };
}

function baseStatus(f: VersionFacts): Omit<VersionStatus, 'version'> {
  switch (f.phase) {
    case 'LOADING':
      return { state: 'LOADING', reason: 'loading' };
    case 'READY': {
      if (f.reloading) return { state: 'READY', reason: 'reloading with changed files; the earlier load serves meanwhile' };
      const fallback = f.fallbackFor;
      if (fallback !== undefined) {
        return { state: 'READY', reason: `serving as the fallback: the desired version${fallback.length > 1 ? 's' : ''} (${fallback.join(', ')}) failed to load` };
      }
      if (f.held) return { state: 'READY', reason: `serving on: nothing in the repository is selected now (${f.selection})` };
      if (f.incompatibility !== undefined) {
        const hint = `requests for version ${f.version} reach it; to route the default traffic to it, set acceptSignature: [${f.version}] in its config.yaml or move the stable label to it`;
        const reason = `not routed by default: ${f.incompatibility} (${hint})`;
        return { state: 'READY', reason: f.reloadFailure === undefined ? reason : `${reason}; ${f.reloadFailure}` };
      }
      return { state: 'READY', reason: f.reloadFailure ?? '' };
    }
    case 'UNLOADING':
      return { state: 'UNLOADING', reason: f.note };
    case 'FAILED':
      return { state: 'UNAVAILABLE', reason: f.failure ?? 'load failed' };
    case 'UNLOADED':
      if (f.configProblem !== undefined) return { state: 'UNAVAILABLE', reason: f.configProblem };
      if (f.desired && f.dormant) return { state: 'UNAVAILABLE', reason: f.note, loadsOnDemand: true };
      if (f.desired) return { state: 'LOADING', reason: 'waiting to load' };
      if (!f.wanted) {
        return { state: 'UNAVAILABLE', reason: f.note !== '' ? f.note : `not loaded: load the model with POST /v2/repository/models/${f.model}/load (model control mode explicit)` };
      }
      if (!f.present) return { state: 'UNAVAILABLE', reason: f.note !== '' ? f.note : 'not in the repository' };
      return { state: 'UNAVAILABLE', reason: f.note !== '' ? `${f.note}; ${f.selection}` : `not served: ${f.selection}` };
  }
}
