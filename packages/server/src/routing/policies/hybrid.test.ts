import { describe, expect, it } from 'vitest';
import { decideHybrid, type HybridDecision, type HybridSituation } from './hybrid.ts';

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const base: HybridSituation = { key: 'c1', storedAtMs: NOW - 1000, storeFailed: false, nowMs: NOW, maxAgeMs: DAY, hasInputs: false, hasDefault: false };

const table: [string, Partial<HybridSituation>, HybridDecision][] = [
  ['a fresh prediction answers', {}, { source: 'store', reason: 'fresh', ageMs: 1000 }],
  ['a fresh prediction answers even with inputs and a default', { hasInputs: true, hasDefault: true }, { source: 'store', reason: 'fresh', ageMs: 1000 }],
  ['one written "in the future" (clock skew) is fresh, aged 0', { storedAtMs: NOW + 5000 }, { source: 'store', reason: 'fresh', ageMs: 0 }],
  ['just younger than maxAge is fresh', { storedAtMs: NOW - DAY + 1 }, { source: 'store', reason: 'fresh', ageMs: DAY - 1 }],
  ['exactly maxAge old is stale', { storedAtMs: NOW - DAY, hasInputs: true }, { source: 'live', reason: 'stale', ageMs: DAY }],
  ['stale with inputs → live', { storedAtMs: NOW - 2 * DAY, hasInputs: true }, { source: 'live', reason: 'stale', ageMs: 2 * DAY }],
  ['stale without inputs → default', { storedAtMs: NOW - 2 * DAY, hasDefault: true }, { source: 'default', reason: 'stale', ageMs: 2 * DAY }],
  ['stale, no inputs, no default → not found', { storedAtMs: NOW - 2 * DAY }, { source: 'none', reason: 'stale', error: 'PREDICTION_NOT_FOUND', ageMs: 2 * DAY }],
  ['not stored with inputs → live', { storedAtMs: undefined, hasInputs: true, hasDefault: true }, { source: 'live', reason: 'not_stored' }],
  ['not stored without inputs → default', { storedAtMs: undefined, hasDefault: true }, { source: 'default', reason: 'not_stored' }],
  ['not stored, nothing else → not found', { storedAtMs: undefined }, { source: 'none', reason: 'not_stored', error: 'PREDICTION_NOT_FOUND' }],
  ['no key with inputs → live', { key: undefined, storedAtMs: undefined, hasInputs: true }, { source: 'live', reason: 'no_key' }],
  ['no key without inputs → default', { key: undefined, storedAtMs: undefined, hasDefault: true }, { source: 'default', reason: 'no_key' }],
  ['no key, nothing else → key missing', { key: undefined, storedAtMs: undefined }, { source: 'none', reason: 'no_key', error: 'PREDICTION_KEY_MISSING' }],
  ['the store failing with inputs → live', { storedAtMs: undefined, storeFailed: true, hasInputs: true }, { source: 'live', reason: 'store_unavailable' }],
  ['the store failing, nothing else → unavailable', { storedAtMs: undefined, storeFailed: true }, { source: 'none', reason: 'store_unavailable', error: 'PREDICTION_STORE_UNAVAILABLE' }],
];

describe('decideHybrid', () => {
  for (const [what, situation, expected] of table) {
    it(what, () => {
      expect(decideHybrid({ ...base, ...situation })).toEqual(expected);
    });
  }
});
