// Labels: named pointers to versions. A model's labels come from its config.yaml and from the
// API; a label set through the API wins over the config's until it is deleted there, and keeps
// the targets it had before, so it can be rolled back. Pure.

/** A label as the API set it (persisted in the state store). */
export interface LabelRecord {
  version: number;
  /** Earlier targets, oldest first; rollback returns to the last. */
  history: number[];
}

export interface EffectiveLabel {
  version: number;
  source: 'config' | 'api';
  history: readonly number[];
}

/** Earlier targets kept per label. */
export const LABEL_HISTORY_LIMIT = 20;

/** The label after moving it to `to`: the target it had (from the API, else the config) joins the history. */
export function movedLabel(current: LabelRecord | undefined, configVersion: number | undefined, to: number): LabelRecord {
  const previous = current?.version ?? configVersion;
  const history = current?.history ?? [];
  if (previous === undefined || previous === to) return { version: to, history: [...history] };
  return { version: to, history: [...history, previous].slice(-LABEL_HISTORY_LIMIT) };
}

/** The label after a rollback: its last earlier target, without it in the history; undefined when it has none. */
export function rolledBackLabel(current: LabelRecord | undefined): LabelRecord | undefined {
  const previous = current?.history.at(-1);
  if (current === undefined || previous === undefined) return undefined;
  return { version: previous, history: current.history.slice(0, -1) };
}

/** Every label in effect: the config's, overridden by the API's. Sorted by name. */
export function effectiveLabels(config: Readonly<Record<string, number>>, api: ReadonlyMap<string, LabelRecord>): Map<string, EffectiveLabel> {
  const out = new Map<string, EffectiveLabel>();
  for (const [name, version] of Object.entries(config)) out.set(name, { version, source: 'config', history: [] });
  for (const [name, record] of api) out.set(name, { version: record.version, source: 'api', history: record.history });
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
