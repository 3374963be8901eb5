// What the state store keeps of models (labels, explicit loads, last known good versions and
// signature references), how it is read, and how it is applied to a managed model. Shared by the
// manager (start-up, new models) and model control (restore).
import type { StateStore } from '../state/state-store.ts';
import type { ManagedModel } from './managed-model.ts';
import type { ModelControlMode } from './model-context.ts';
import { parseSignatureReference, type SignatureReference } from './signature-compatibility.ts';
import { STATE } from './state-namespaces.ts';

/** What the state store holds for models, keyed by namespace then model. */
export interface PersistedState {
  labels: Map<string, Record<string, { version: number; history: number[] }>>;
  explicit: Map<string, { loaded: boolean; config?: unknown }>;
  models: Map<string, { lastKnownGood?: number; signatureReference?: unknown }>;
}

export async function readPersistedState(store: StateStore): Promise<PersistedState> {
  const [labels, explicit, models] = await Promise.all([
    store.list<Record<string, { version: number; history: number[] }>>(STATE.labels),
    store.list<{ loaded: boolean; config?: unknown }>(STATE.explicit),
    store.list<{ lastKnownGood?: number; signatureReference?: unknown }>(STATE.models),
  ]);
  return { labels, explicit, models };
}

/** Whether a model just found is wanted: always outside explicit mode; else as stored, or as the start-up list says. */
export function wantedAtStart(name: string, state: PersistedState, mode: ModelControlMode, startupModels: readonly string[]): boolean {
  const explicit = state.explicit.get(name);
  return mode !== 'explicit' || (explicit !== undefined ? explicit.loaded : startupModels.includes('*') || startupModels.includes(name));
}

/** Applies what the state store says of `model` (call model.update() after, unless it is new). */
export function applyPersistedState(model: ManagedModel, state: PersistedState, mode: ModelControlMode): void {
  const explicit = state.explicit.get(model.name);
  if (mode === 'explicit' && explicit !== undefined) {
    model.wanted = explicit.loaded;
    model.configOverride = explicit.loaded ? explicit.config : undefined;
  }
  model.setApiLabels(Object.entries(state.labels.get(model.name) ?? {}), { replaceAll: true });
  model.lastKnownGood = state.models.get(model.name)?.lastKnownGood;
  model.signatureReference = parseSignatureReference(state.models.get(model.name)?.signatureReference);
}

/** What the state store keeps of a model: its last known good version and signature reference. */
export function modelRecord(model: ManagedModel): { lastKnownGood?: number; signatureReference?: SignatureReference } {
  return {
    ...(model.lastKnownGood === undefined ? {} : { lastKnownGood: model.lastKnownGood }),
    ...(model.signatureReference === undefined ? {} : { signatureReference: model.signatureReference }),
  };
}

/** The state store's record of an explicit load. */
export function explicitRecord(config: unknown): { loaded: true; config?: unknown } {
  return config === undefined ? { loaded: true } : { loaded: true, config };
}
