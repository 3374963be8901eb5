// API keys: each configured by name (the principal id) with the SHA-256 of the key and its
// scopes. A presented key is hashed, then compared with every configured digest in constant time
// (crypto.timingSafeEqual, no early exit), so neither the comparison nor the number of keys
// tried tells an attacker anything about a digest. Verified keys are remembered by digest, so
// the hot path is one SHA-256 and one map lookup; the cache holds at most one entry per
// configured key (a wrong key is never cached). Keys are never logged or kept in clear.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../core/request-context.ts';

export interface ApiKeyEntry {
  /** The principal id: what logs and the audit log show. */
  readonly name: string;
  /** Hex SHA-256 of the key. */
  readonly sha256: string;
  readonly scopes: readonly string[];
}

/** The hex SHA-256 of a key: what sibyl.yaml keeps (`sibyl auth hash-key`). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key (256 bits, base64url, prefixed so that scanners recognise it). */
export function newApiKey(random: (bytes: number) => Buffer = randomBytes): string {
  return `sibyl_${random(32).toString('base64url')}`;
}

export class ApiKeys {
  private readonly entries: readonly { digest: Buffer; principal: Principal }[];
  private readonly verified = new Map<string, Principal>();

  constructor(keys: readonly ApiKeyEntry[]) {
    this.entries = keys.map((k) => ({ digest: Buffer.from(k.sha256, 'hex'), principal: Object.freeze({ id: k.name, scopes: Object.freeze([...k.scopes]) }) }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The principal of `key`, or undefined when no configured key matches. */
  verify(key: string): Principal | undefined {
    const digest = createHash('sha256').update(key, 'utf8').digest();
    const hex = digest.toString('hex');
    const cached = this.verified.get(hex);
    if (cached !== undefined) return cached;
    let found: Principal | undefined;
    for (const entry of this.entries) {
      // Every entry is compared: the time does not depend on which one (if any) matches.
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.principal;
    }
    if (found !== undefined) this.verified.set(hex, found);
    return found;
  }
}
