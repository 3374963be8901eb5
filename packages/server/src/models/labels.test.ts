import { describe, expect, it } from 'vitest';
import { LABEL_HISTORY_LIMIT, effectiveLabels, movedLabel, rolledBackLabel } from './labels.ts';

describe('labels', () => {
  it('moving a label keeps where it pointed before', () => {
    expect(movedLabel(undefined, undefined, 2)).toEqual({ version: 2, history: [] });
    expect(movedLabel(undefined, 1, 2)).toEqual({ version: 2, history: [1] }); // from the config's target
    expect(movedLabel({ version: 2, history: [1] }, 1, 3)).toEqual({ version: 3, history: [1, 2] });
    expect(movedLabel({ version: 3, history: [1, 2] }, 1, 3)).toEqual({ version: 3, history: [1, 2] }); // no-op move
  });

  it('keeps a bounded history', () => {
    let label = movedLabel(undefined, undefined, 1);
    for (let v = 2; v <= LABEL_HISTORY_LIMIT + 5; v++) label = movedLabel(label, undefined, v);
    expect(label.history).toHaveLength(LABEL_HISTORY_LIMIT);
    expect(label.history.at(-1)).toBe(LABEL_HISTORY_LIMIT + 4);
    expect(label.history[0]).toBe(5);
  });

  it('rolls back to the last earlier target, one step at a time', () => {
    const once = rolledBackLabel({ version: 3, history: [1, 2] });
    expect(once).toEqual({ version: 2, history: [1] });
    expect(rolledBackLabel(once)).toEqual({ version: 1, history: [] });
    expect(rolledBackLabel({ version: 1, history: [] })).toBeUndefined();
    expect(rolledBackLabel(undefined)).toBeUndefined();
  });

  it('API labels override the config, sorted by name', () => {
    const labels = effectiveLabels({ stable: 1, canary: 2 }, new Map([['stable', { version: 3, history: [1] }]]));
    expect([...labels]).toEqual([
      ['canary', { version: 2, source: 'config', history: [] }],
      ['stable', { version: 3, source: 'api', history: [1] }],
    ]);
  });
});
