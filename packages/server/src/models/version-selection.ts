// Which version a request addresses: a number, a label (by path or where a version goes), or
// neither (the default route). Pure functions of the model's versions and labels.
import { SibylError } from '@sibyl/protocol';
import type { EffectiveLabel } from './labels.ts';
import type { VersionStatus } from './model-state.ts';

/** Which version a request addresses: a number, a label, or neither (the default route). */
export interface VersionSelector {
  version?: string;
  label?: string;
}

/** What routing reads of a version (a VersionRecord, or a status being decided). */
export interface Routable {
  readonly version: number;
  readonly status: Pick<VersionStatus, 'state' | 'loadsOnDemand'>;
  readonly incompatibility: string | undefined;
}

export interface SelectionContext<R extends Routable = Routable> {
  model: string;
  records: ReadonlyMap<number, R>;
  labels: ReadonlyMap<string, EffectiveLabel>;
  /** Versions in the repository, ascending. */
  present: readonly number[];
}

const VERSION_TEXT = /^[1-9][0-9]{0,14}$/;

const canServe = <R extends Routable>(r: R | undefined): r is R => r !== undefined && (r.status.state === 'READY' || r.status.loadsOnDemand === true);

/**
 * Where a request without version or label goes: the `stable` label's version when it can serve
 * (READY, or loadable on demand; a label names a version explicitly, whatever its signature),
 * else the newest READY version whose signature is compatible with the default traffic's, else
 * the newest such that loads on demand; only when no compatible version can serve, the newest
 * READY or loadable one whatever its signature; else the newest present (whose status then says
 * why it cannot serve).
 */
export function defaultRoute<R extends Routable>(ctx: SelectionContext<R>): R | undefined {
  const stable = ctx.labels.get('stable');
  const byLabel = stable === undefined ? undefined : ctx.records.get(stable.version);
  if (canServe(byLabel)) return byLabel;
  const newestFirst = [...ctx.records.values()].sort((a, b) => b.version - a.version);
  const compatible = newestFirst.filter((r) => r.incompatibility === undefined);
  return (
    compatible.find((r) => r.status.state === 'READY') ??
    compatible.find((r) => r.status.loadsOnDemand === true) ??
    newestFirst.find((r) => r.status.state === 'READY') ??
    newestFirst.find((r) => r.status.loadsOnDemand === true) ??
    newestFirst.find((r) => ctx.present.includes(r.version))
  );
}

/**
 * The record a selector addresses; `route` gives the default route when it names nothing.
 * @throws SibylError INVALID_VERSION, VERSION_NOT_FOUND, LABEL_NOT_FOUND, or MODEL_NOT_READY for
 *   a label at a version that is not in the repository.
 */
export function selectVersion<R extends Routable>(ctx: SelectionContext<R>, selector: VersionSelector, route: () => R | undefined): R | undefined {
  const text = selector.label ?? selector.version;
  if (text === undefined || text === '') return route();
  const versions = ctx.present.join(', ') || 'none';
  if (selector.label === undefined && VERSION_TEXT.test(text)) {
    const record = ctx.records.get(Number(text));
    if (record === undefined) throw new SibylError('VERSION_NOT_FOUND', `model '${ctx.model}' has no version ${text}; its versions are ${versions}`);
    return record;
  }
  const label = ctx.labels.get(text);
  if (label === undefined) {
    if (selector.label === undefined && !/^[A-Za-z]/.test(text)) throw new SibylError('INVALID_VERSION', `version '${text}' is neither a positive integer nor a label name`);
    const known = [...ctx.labels.keys()];
    throw new SibylError(
      'LABEL_NOT_FOUND',
      `model '${ctx.model}' has no label '${text}'; ${known.length > 0 ? `its labels are ${known.join(', ')}` : 'it has no labels'}${selector.label === undefined ? ` and its versions are ${versions}` : ''}`,
    );
  }
  const record = ctx.records.get(label.version);
  if (record === undefined) {
    throw new SibylError('MODEL_NOT_READY', `label '${text}' of model '${ctx.model}' points at version ${label.version}, which is not in the repository`, {
      details: { state: 'UNAVAILABLE', reason: `version ${label.version} is not in the repository` },
    });
  }
  return record;
}
