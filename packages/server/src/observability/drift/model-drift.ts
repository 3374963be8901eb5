// Drift monitoring of one model: which values it watches (each numeric input element per row;
// for each numeric output, the predicted class and its confidence when a row has several scores,
// else the value), the baseline of each, and tumbling windows of `windowRows` rows compared with
// it. Inputs and outputs keep separate row counts and windows.
import type { Tensor, TensorMetadata } from '@sibyl/protocol';
import type { ModelDriftConfig } from '../../config/drift-config.ts';
import { CategoricalFeature, NumericFeature, type FeatureComparison, type FeatureDrift } from './feature-drift.ts';
import { isNumeric, rowsOf, tensorNamed, valueAt } from './tensor-values.ts';

/** One tensor's place among the watched values. */
interface Slot {
  name: string;
  perRow: number;
  /** Index of its first value among the side's values. */
  offset: number;
}

/** Baseline values of one side (inputs or outputs), collected row by row up to a capacity. */
class Collector {
  readonly columns: Float64Array[];
  rows = 0;

  constructor(
    width: number,
    readonly capacity: number,
  ) {
    this.columns = Array.from({ length: width }, () => new Float64Array(capacity));
  }

  get full(): boolean {
    return this.rows >= this.capacity;
  }
}

export interface WindowResult {
  side: 'inputs' | 'outputs';
  comparisons: FeatureComparison[];
}

/** What one side (inputs or outputs) knows: its slots, names, baseline (collecting or built) and window. */
class Side {
  slots: Slot[] | undefined;
  names: string[] = [];
  /** Per value: categorical (class) values need a category count. */
  categories: (number | undefined)[] = [];
  collector: Collector | undefined;
  features: FeatureDrift[] | undefined;
  windowFill = 0;
  windowsCompleted = 0;
  last: FeatureComparison[] = [];
  baselineRows = 0;
  /** Scratch: the tensors of the slots in the request being read. */
  readonly found: Tensor[] = [];
}

export class ModelDrift {
  readonly inputs = new Side();
  readonly outputs = new Side();
  /** Why monitoring does not run (a bad reference file), else ''. */
  problem = '';
  /**
   * True from construction until the reference file is read and run (when the config names one):
   * live traffic is ignored meanwhile, and only the reference data's outputs are collected.
   */
  awaitingReference: boolean;
  /** Rows of the output baseline: baselineRows, or the reference file's rows. */
  private outputBaselineRows: number;

  constructor(
    readonly model: string,
    private readonly signatureInputs: readonly TensorMetadata[],
    private readonly batched: boolean,
    readonly config: ModelDriftConfig,
    private readonly onWindow: (result: WindowResult) => void,
  ) {
    this.inputs.slots = this.inputSlotsFromSignature();
    this.outputBaselineRows = config.baselineRows;
    this.awaitingReference = config.baselineFile !== undefined;
  }

  /** The input slots, once known: tensor name and values per row, in column order. */
  get inputLayout(): readonly { name: string; perRow: number }[] | undefined {
    return this.inputs.slots;
  }

  /** Sets the input baseline from reference columns (one per input value, in slot order). */
  setInputBaseline(columns: readonly Float64Array[], names: readonly string[] | undefined): void {
    const slots = this.inputs.slots;
    const width = slots === undefined ? 0 : slots.reduce((n, s) => n + s.perRow, 0);
    if (slots === undefined || columns.length !== width) {
      throw new Error(`the reference data has ${columns.length} columns, but the model's inputs have ${width} values per row (${this.signatureInputs.map((t) => `${t.name} ${JSON.stringify(t.shape)}`).join(', ')})`);
    }
    if (names !== undefined) this.inputs.names = [...names];
    this.inputs.features = columns.map((values, i) => new NumericFeature(this.inputs.names[i]!, 'input', values, this.config.bins));
    this.inputs.baselineRows = columns[0]?.length ?? 0;
    this.outputBaselineRows = Math.max(1, this.inputs.baselineRows);
  }

  /** Reads a request's inputs (before they are handed to the scheduler). */
  observeInputs(tensors: readonly Tensor[]): void {
    if (this.awaitingReference) return;
    const side = this.inputs;
    if (side.slots === undefined) side.slots = this.slotsFrom(tensors, side, 'inputs');
    this.observe(side, 'inputs', tensors);
  }

  /** Reads an answer's outputs. `reference`: outputs of the reference data, not of a request. */
  observeOutputs(tensors: readonly Tensor[], reference = false): void {
    if (this.awaitingReference !== reference) return;
    const side = this.outputs;
    if (side.slots === undefined) side.slots = this.slotsFrom(tensors, side, 'outputs');
    this.observe(side, 'outputs', tensors);
  }

  private observe(side: Side, kind: 'inputs' | 'outputs', tensors: readonly Tensor[]): void {
    const slots = side.slots!;
    if (slots.length === 0) return;
    // The slots' tensors, found once per request into a reused array.
    const found = side.found;
    let rows = -1;
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[k]!;
      const tensor = tensorNamed(tensors, slot.name);
      if (tensor === undefined) return; // the request asked for other outputs: nothing to compare
      const shape = rowsOf(tensor, this.batched);
      if (!isNumeric(tensor) || shape.perRow !== slot.perRow || (rows >= 0 && shape.rows !== rows)) return;
      rows = shape.rows;
      found[k] = tensor;
    }
    if (kind === 'inputs' && side.features !== undefined) return this.countInputs(side, slots, found, rows);
    const collector = side.features === undefined ? (side.collector ??= new Collector(side.categories.length, kind === 'outputs' ? this.outputBaselineRows : this.config.baselineRows)) : undefined;
    for (let r = 0; r < rows; r++) {
      if (collector !== undefined && collector.full) break;
      for (let k = 0; k < slots.length; k++) {
        const slot = slots[k]!;
        const tensor = found[k]!;
        if (kind === 'outputs' && slot.perRow > 1) this.addScores(side, collector, slot, tensor, r);
        else for (let j = 0; j < slot.perRow; j++) this.add(side, collector, slot.offset + j, valueAt(tensor, r * slot.perRow + j));
      }
      if (collector !== undefined) collector.rows++;
      else if (++side.windowFill >= this.config.windowRows) this.completeWindow(side, kind);
    }
    if (collector !== undefined && collector.full) this.buildBaseline(side, collector);
  }

  /**
   * The hot path (every request once the baseline is built): inputs are numeric features only.
   * Windows complete on row boundaries.
   */
  private countInputs(side: Side, slots: readonly Slot[], found: readonly Tensor[], rows: number): void {
    const features = side.features as NumericFeature[];
    let r = 0;
    while (r < rows) {
      const take = Math.min(rows - r, this.config.windowRows - side.windowFill);
      for (let k = 0; k < slots.length; k++) {
        const { perRow, offset } = slots[k]!;
        const tensor = found[k]!;
        for (let j = 0; j < perRow; j++) {
          const feature = features[offset + j]!;
          for (let i = r; i < r + take; i++) feature.add(valueAt(tensor, i * perRow + j));
        }
      }
      r += take;
      side.windowFill += take;
      if (side.windowFill >= this.config.windowRows) this.completeWindow(side, 'inputs');
    }
  }

  /** A row of class scores: the predicted class (argmax) and its score (confidence). */
  private addScores(side: Side, collector: Collector | undefined, slot: Slot, tensor: Tensor, row: number): void {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < slot.perRow; j++) {
      const score = valueAt(tensor, row * slot.perRow + j);
      if (score > bestScore) {
        bestScore = score;
        best = j;
      }
    }
    this.add(side, collector, slot.offset, best);
    this.add(side, collector, slot.offset + 1, bestScore);
  }

  private add(side: Side, collector: Collector | undefined, index: number, value: number): void {
    if (collector !== undefined) collector.columns[index]![collector.rows] = value;
    else side.features![index]!.add(value);
  }

  private buildBaseline(side: Side, collector: Collector): void {
    side.features = collector.columns.map((values, i) => {
      const categories = side.categories[i];
      const kind = side === this.inputs ? 'input' : 'output';
      return categories === undefined ? new NumericFeature(side.names[i]!, kind, values, this.config.bins) : new CategoricalFeature(side.names[i]!, kind, values, categories);
    });
    side.baselineRows = collector.rows;
    side.collector = undefined;
  }

  /** Ends the output baseline early (the reference data had fewer usable rows than expected). */
  finishOutputBaseline(): void {
    const collector = this.outputs.collector;
    if (collector !== undefined && collector.rows > 0) {
      for (let i = 0; i < collector.columns.length; i++) collector.columns[i] = collector.columns[i]!.subarray(0, collector.rows);
      this.buildBaseline(this.outputs, collector);
    }
  }

  private completeWindow(side: Side, kind: 'inputs' | 'outputs'): void {
    side.last = side.features!.map((f) => f.compareAndReset());
    side.windowFill = 0;
    side.windowsCompleted++;
    this.onWindow({ side: kind, comparisons: side.last });
  }

  /** Input slots from the signature, when every input's values per row are fixed there. */
  private inputSlotsFromSignature(): Slot[] | undefined {
    const slots: Slot[] = [];
    let offset = 0;
    for (const input of this.signatureInputs) {
      if (input.datatype === 'BYTES') continue;
      const dims = this.batched ? input.shape.slice(1) : input.shape;
      if (dims.some((d) => d < 0)) return undefined; // learnt from the first request instead
      const perRow = dims.reduce((a, b) => a * b, 1);
      slots.push({ name: input.name, perRow, offset });
      for (let j = 0; j < perRow; j++) {
        this.inputs.names.push(perRow === 1 ? input.name : `${input.name}[${j}]`);
        this.inputs.categories.push(undefined);
      }
      offset += perRow;
    }
    return slots;
  }

  /** Slots from the first tensors seen (outputs always; inputs with variable dimensions). */
  private slotsFrom(tensors: readonly Tensor[], side: Side, kind: 'inputs' | 'outputs'): Slot[] {
    const slots: Slot[] = [];
    let offset = 0;
    for (const tensor of tensors) {
      if (!isNumeric(tensor)) continue;
      const { perRow } = rowsOf(tensor, this.batched);
      if (kind === 'outputs' && perRow > 1) {
        slots.push({ name: tensor.name, perRow, offset });
        side.names.push(`${tensor.name}.class`, `${tensor.name}.confidence`);
        side.categories.push(perRow, undefined);
        offset += 2;
      } else {
        slots.push({ name: tensor.name, perRow, offset });
        for (let j = 0; j < perRow; j++) {
          side.names.push(perRow === 1 ? tensor.name : `${tensor.name}[${j}]`);
          side.categories.push(undefined);
        }
        offset += perRow;
      }
    }
    return slots;
  }
}
