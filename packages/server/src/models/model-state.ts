// Lifecycle states of a model version. Every state carries a reason a person can act on.

export const MODEL_STATES = ['LOADING', 'READY', 'UNLOADING', 'UNAVAILABLE'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export interface VersionStatus {
  version: number;
  state: ModelState;
  /**
   * Empty when READY and nothing is amiss; otherwise why (`load failed: …`, `not loaded: …`,
   * `evicted: …`, or, on a READY version, that a reload with newer files failed).
   */
  reason: string;
  /** Duration of the last successful load, warm-up included, in ms. */
  loadMs?: number;
  /**
   * True when the version is not loaded but a request for it loads it (evicted by the
   * residency limit, or beyond it at start-up).
   */
  loadsOnDemand?: boolean;
  /**
   * Set when the version's signature is incompatible with the one the model's default traffic is
   * served with, and not accepted: the changes, in words. Requests that name the version (or a
   * label on it) reach it; requests that name none do not, while a compatible version serves.
   */
  incompatibleSignature?: string;
}
