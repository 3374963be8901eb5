// Namespaces of the state store that the model manager writes (see StateStore).
export const STATE = {
  /** model → { label → LabelRecord }: labels set through the API. */
  labels: 'labels',
  /** model → { loaded, config? }: explicit loads and unloads. */
  explicit: 'explicit',
  /** model → { lastKnownGood }: the version to fall back to when every desired one fails. */
  models: 'models',
} as const;
