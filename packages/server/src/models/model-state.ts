// Lifecycle states of a model version. Every state carries a reason a person can act on.

export const MODEL_STATES = ['LOADING', 'READY', 'UNLOADING', 'UNAVAILABLE'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export interface VersionStatus {
  version: number;
  state: ModelState;
  /** Empty when READY; otherwise why (`load failed: …`, `not served: …`). */
  reason: string;
}
