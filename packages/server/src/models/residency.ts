// Residency: how many versions (and how many bytes of them) stay loaded at once, and which go
// when room is needed: the least recently used. Pure; the model manager keeps the bookkeeping.

export interface ResidentVersion {
  /** `model:version`. */
  key: string;
  /** Clock time (ms) of the last request routed to it. */
  lastUsedMs: number;
  /** Memory it is counted for (see ModelConfig.memoryBytes). */
  bytes: number;
  /** False while it cannot be unloaded for room (loading, or already unloading). */
  evictable: boolean;
}

export interface ResidencyLimits {
  /** Most versions loaded at once; 0: no limit. */
  maxLoadedVersions: number;
  /** Most bytes of loaded versions; 0: no limit. */
  memoryBudgetBytes: number;
}

function fitsWith(count: number, bytes: number, limits: ResidencyLimits, incomingBytes: number): boolean {
  if (limits.maxLoadedVersions > 0 && count + 1 > limits.maxLoadedVersions) return false;
  if (limits.memoryBudgetBytes > 0 && bytes + incomingBytes > limits.memoryBudgetBytes) return false;
  return true;
}

/** Whether one more version of `incomingBytes` fits beside the resident ones without evicting. */
export function fitsBeside(resident: readonly ResidentVersion[], limits: ResidencyLimits, incomingBytes: number): boolean {
  return fitsWith(resident.length, resident.reduce((n, r) => n + r.bytes, 0), limits, incomingBytes);
}

/**
 * The keys to evict, least recently used first, so that one more version of `incomingBytes`
 * fits; [] when it fits already; undefined when it cannot fit even with every evictable version
 * gone (the caller reports why).
 */
export function chooseEvictions(resident: readonly ResidentVersion[], limits: ResidencyLimits, incomingBytes: number): string[] | undefined {
  let count = resident.length;
  let bytes = resident.reduce((n, r) => n + r.bytes, 0);
  const evicted: string[] = [];
  const candidates = resident.filter((r) => r.evictable).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  for (const candidate of candidates) {
    if (fitsWith(count, bytes, limits, incomingBytes)) break;
    evicted.push(candidate.key);
    count--;
    bytes -= candidate.bytes;
  }
  return fitsWith(count, bytes, limits, incomingBytes) ? evicted : undefined;
}
