// Namespaces of the state store that the model manager writes (see StateStore).
// The names come from the state store's one list (state/snapshot-schema.ts), which restore checks.
import { STATE_NAMESPACES } from '../state/snapshot-schema.ts';

export const STATE = {
  /** model → { label → LabelRecord }: labels set through the API. */
  labels: STATE_NAMESPACES.labels,
  /** model → { loaded, config? }: explicit loads and unloads. */
  explicit: STATE_NAMESPACES.explicit,
  /** model → { lastKnownGood }: the version to fall back to when every desired one fails. */
  models: STATE_NAMESPACES.models,
} as const;
