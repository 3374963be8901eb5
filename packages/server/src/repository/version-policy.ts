// Which versions of a model should be loaded: the version policy applied to the versions the
// repository holds (TF Serving's aspired versions, Triton's version_policy). Pure.
import type { VersionPolicy } from '../config/model-config.ts';

/**
 * The versions `policy` selects from `available` (any order), ascending. `latest: n` takes the n
 * highest; `specific` takes those of its versions that are available (the others are reported by
 * missingSpecificVersions); `all` takes every one.
 */
export function selectVersions(policy: VersionPolicy, available: readonly number[]): number[] {
  const sorted = [...new Set(available)].sort((a, b) => a - b);
  switch (policy.kind) {
    case 'latest':
      return sorted.slice(Math.max(0, sorted.length - policy.count));
    case 'specific':
      return sorted.filter((v) => policy.versions.includes(v));
    case 'all':
      return sorted;
  }
}

/** Versions a `specific` policy names that the repository does not hold. */
export function missingSpecificVersions(policy: VersionPolicy, available: readonly number[]): number[] {
  return policy.kind === 'specific' ? policy.versions.filter((v) => !available.includes(v)) : [];
}

/** The policy in words, for reasons and logs: `latest: 1`, `specific: [1, 3]`, `all`. */
export function describeVersionPolicy(policy: VersionPolicy): string {
  switch (policy.kind) {
    case 'latest':
      return `latest: ${policy.count}`;
    case 'specific':
      return `specific: [${policy.versions.join(', ')}]`;
    case 'all':
      return 'all';
  }
}
