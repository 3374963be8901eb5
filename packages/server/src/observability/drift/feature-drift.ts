// One monitored feature: its baseline as counts over fixed bins, and the counts of the current
// window. Numeric features use fine bins at baseline percentiles (for KS) grouped into `bins`
// coarser bins (for PSI); categorical ones (a classifier's predicted class) one bin per class.
import { bucketIndex } from '../../core/bounds.ts';
import { groupBins, ksStatistic, psi, quantileEdges } from './statistics.ts';

export interface FeatureComparison {
  name: string;
  kind: 'input' | 'output';
  psi: number;
  /** Absent for categorical features. */
  ks?: number;
  /** Baseline and window shares per category, for categorical features. */
  shares?: { baseline: number[]; window: number[] };
}

/** Fine bins per numeric feature: KS is evaluated at these quantiles of the baseline. */
const FINE_BINS_TARGET = 100;

export class NumericFeature {
  private readonly edges: Float64Array;
  private readonly baseline: Float64Array;
  private window: Float64Array;
  private readonly groupSize: number;

  /** `values`: the baseline sample (any order; copied). `bins`: PSI bins. */
  constructor(
    readonly name: string,
    readonly kind: 'input' | 'output',
    values: ArrayLike<number>,
    bins: number,
  ) {
    this.groupSize = Math.max(1, Math.ceil(FINE_BINS_TARGET / bins));
    const sorted = Float64Array.from(values).sort();
    this.edges = quantileEdges(sorted, bins * this.groupSize);
    this.baseline = new Float64Array(bins * this.groupSize);
    for (let i = 0; i < sorted.length; i++) this.baseline[bucketIndex(this.edges, sorted[i]!)]!++;
    this.window = new Float64Array(this.baseline.length);
  }

  add(value: number): void {
    if (value === value) this.window[bucketIndex(this.edges, value)]!++; // NaN is not counted
  }

  /** Compares the window with the baseline and starts a new window. */
  compareAndReset(): FeatureComparison {
    const result = {
      name: this.name,
      kind: this.kind,
      psi: psi(groupBins(this.baseline, this.groupSize), groupBins(this.window, this.groupSize)),
      ks: ksStatistic(this.baseline, this.window),
    };
    this.window = new Float64Array(this.baseline.length);
    return result;
  }
}

export class CategoricalFeature {
  private readonly baseline: Float64Array;
  private window: Float64Array;

  /** `classes`: the class index of each baseline row. */
  constructor(
    readonly name: string,
    readonly kind: 'input' | 'output',
    classes: ArrayLike<number>,
    categories: number,
  ) {
    this.baseline = new Float64Array(categories);
    for (let i = 0; i < classes.length; i++) this.baseline[classes[i]!]!++;
    this.window = new Float64Array(categories);
  }

  add(category: number): void {
    if (category >= 0 && category < this.window.length) this.window[category]!++;
  }

  compareAndReset(): FeatureComparison {
    const share = (counts: Float64Array): number[] => {
      let n = 0;
      for (const c of counts) n += c;
      return Array.from(counts, (c) => (n === 0 ? 0 : c / n));
    };
    const result = { name: this.name, kind: this.kind, psi: psi(this.baseline, this.window), shares: { baseline: share(this.baseline), window: share(this.window) } };
    this.window = new Float64Array(this.baseline.length);
    return result;
  }
}

export type FeatureDrift = NumericFeature | CategoricalFeature;
