// Drift of one model on seeded data: a window drawn from the baseline's distribution stays under
// the thresholds; a shifted one crosses them, for that feature only.
import type { Tensor } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/random.ts';
import type { ModelDriftConfig } from '../../config/drift-config.ts';
import { ModelDrift, type WindowResult } from './model-drift.ts';

const CONFIG: ModelDriftConfig = { baselineFile: undefined, baselineRows: 2000, windowRows: 1000, bins: 10, psiThreshold: 0.2, ksThreshold: 0.2 };

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A batch of `rows` rows of 2 features: N(shift, 1) and N(0, 1). */
function batch(random: () => number, rows: number, shift = 0): Tensor[] {
  const data = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    data[r * 2] = normal(random) + shift;
    data[r * 2 + 1] = normal(random);
  }
  return [{ name: 'x', datatype: 'FP32', shape: [rows, 2], data }];
}

/** Class scores for `rows` rows, class 1 with probability p1. */
function scores(random: () => number, rows: number, p1: number): Tensor[] {
  const data = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    const one = random() < p1;
    const confidence = 0.6 + 0.4 * random();
    data[r * 2] = one ? 1 - confidence : confidence;
    data[r * 2 + 1] = one ? confidence : 1 - confidence;
  }
  return [{ name: 'probabilities', datatype: 'FP32', shape: [rows, 2], data }];
}

function monitor(): { drift: ModelDrift; windows: WindowResult[] } {
  const windows: WindowResult[] = [];
  const drift = new ModelDrift('m', [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], true, CONFIG, (w) => windows.push(w));
  return { drift, windows };
}

describe('model drift', () => {
  it('collects the baseline from the first rows, then compares full windows', () => {
    const random = seededRandom(11);
    const { drift, windows } = monitor();
    for (let i = 0; i < 20; i++) drift.observeInputs(batch(random, 100));
    expect(drift.inputs.baselineRows).toBe(2000);
    expect(windows).toEqual([]);
    for (let i = 0; i < 9; i++) drift.observeInputs(batch(random, 100));
    expect(windows).toEqual([]);
    expect(drift.inputs.windowFill).toBe(900);
    drift.observeInputs(batch(random, 100));
    expect(windows).toHaveLength(1);
    expect(windows[0]!.comparisons.map((c) => c.name)).toEqual(['x[0]', 'x[1]']);
  });

  it('an unshifted window stays under the PSI and KS thresholds', () => {
    const random = seededRandom(12);
    const { drift, windows } = monitor();
    for (let i = 0; i < 30; i++) drift.observeInputs(batch(random, 100));
    for (const c of windows[0]!.comparisons) {
      expect(c.psi, c.name).toBeLessThan(CONFIG.psiThreshold / 2);
      expect(c.ks!, c.name).toBeLessThan(CONFIG.ksThreshold / 2);
    }
  });

  it('a shifted window raises PSI and KS above the thresholds for the shifted feature only', () => {
    const random = seededRandom(13);
    const { drift, windows } = monitor();
    for (let i = 0; i < 20; i++) drift.observeInputs(batch(random, 100));
    for (let i = 0; i < 10; i++) drift.observeInputs(batch(random, 100, 0.75));
    const [shifted, steady] = windows[0]!.comparisons;
    expect(shifted!.psi).toBeGreaterThan(CONFIG.psiThreshold);
    expect(shifted!.ks!).toBeGreaterThan(CONFIG.ksThreshold);
    expect(steady!.psi).toBeLessThan(CONFIG.psiThreshold / 2);
    expect(steady!.ks!).toBeLessThan(CONFIG.ksThreshold / 2);
  });

  it('watches class shares and confidence of a classifier output', () => {
    const random = seededRandom(14);
    const { drift, windows } = monitor();
    for (let i = 0; i < 20; i++) drift.observeOutputs(scores(random, 100, 0.3));
    for (let i = 0; i < 10; i++) drift.observeOutputs(scores(random, 100, 0.3));
    for (let i = 0; i < 10; i++) drift.observeOutputs(scores(random, 100, 0.8));
    expect(windows.map((w) => w.side)).toEqual(['outputs', 'outputs']);
    const [steady, moved] = windows.map((w) => w.comparisons.find((c) => c.name === 'probabilities.class')!);
    expect(steady!.psi).toBeLessThan(0.05);
    expect(moved!.psi).toBeGreaterThan(0.2);
    expect(moved!.shares!.window[1]).toBeCloseTo(0.8, 1);
    expect(moved!.shares!.baseline[1]).toBeCloseTo(0.3, 1);
    expect(windows[0]!.comparisons.map((c) => c.name)).toEqual(['probabilities.class', 'probabilities.confidence']);
  });

  it('takes the input baseline from reference columns, checking their number', () => {
    const random = seededRandom(15);
    const { drift, windows } = monitor();
    const columns = [new Float64Array(500), new Float64Array(500)];
    for (let r = 0; r < 500; r++) {
      columns[0]![r] = normal(random);
      columns[1]![r] = normal(random);
    }
    drift.setInputBaseline(columns, ['age', 'income']);
    expect(() => drift.setInputBaseline([columns[0]!], undefined)).toThrow('the reference data has 1 columns, but the model\'s inputs have 2 values per row');
    for (let i = 0; i < 10; i++) drift.observeInputs(batch(random, 100, 2));
    expect(windows[0]!.comparisons.map((c) => [c.name, c.psi > 0.2])).toEqual([
      ['age', true],
      ['income', false],
    ]);
  });
});
