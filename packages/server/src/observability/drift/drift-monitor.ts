// Drift monitoring for every model whose config.yaml has a `drift:` section: a ModelDrift per
// model, created when its first request arrives; a baseline from the reference file (whose rows
// are also run through the model, so outputs have a baseline) or from the first rows of
// traffic; gauges, warnings and the report of GET /v1/models/{m}/drift.
import { SibylError, TYPED_ARRAY, isBigIntDatatype, type FixedDatatype, type Tensor } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { ServedVersion } from '../../models/served-version.ts';
import type { InferOutcome } from '../../routing/inference-observer.ts';
import { batchKeyOf } from '../../scheduling/scheduler.ts';
import type { SibylMetrics } from '../metrics/metrics.ts';
import type { FeatureComparison } from './feature-drift.ts';
import { ModelDrift, type WindowResult } from './model-drift.ts';
import { readReferenceCsv } from './reference-file.ts';

export interface DriftReport {
  model: string;
  state: 'collecting-baseline' | 'monitoring' | 'failed';
  problem?: string;
  baseline: { source: string; inputRows: number; outputRows: number };
  window: { rows: number; inputRowsFilled: number; outputRowsFilled: number; inputWindowsCompleted: number; outputWindowsCompleted: number };
  thresholds: { psi: number; ks: number };
  /** Comparisons of the last complete window of each side, with whether they crossed a threshold. */
  inputs: (FeatureComparison & { drifted: boolean })[];
  outputs: (FeatureComparison & { drifted: boolean })[];
}

export class DriftMonitor {
  private readonly byModel = new Map<string, ModelDrift | null>();
  private readonly byServed = new WeakMap<ServedVersion, ModelDrift | null>();

  constructor(private readonly options: { log: Logger; metrics?: SibylMetrics }) {}

  /** Reads a request's inputs (called before it is queued). */
  observeInputs(served: ServedVersion, request: { inputs: readonly Tensor[] }): void {
    this.driftOf(served)?.observeInputs(request.inputs);
  }

  /** Reads an answer's outputs. */
  observeOutputs(outcome: InferOutcome): void {
    if (outcome.response === undefined || outcome.served === undefined) return;
    this.driftOf(outcome.served)?.observeOutputs(outcome.response.outputs);
  }

  /**
   * The drift report of a model. @throws SibylError MODEL_NOT_FOUND when it has no monitor (no
   * `drift:` section, or no request yet).
   */
  report(model: string): DriftReport {
    const drift = this.byModel.get(model);
    if (drift === undefined || drift === null) {
      throw new SibylError('MODEL_NOT_FOUND', `model '${model}' has no drift monitor: add a drift: section to its config.yaml (monitoring starts with its first request)`);
    }
    const { config } = drift;
    const mark = (c: FeatureComparison) => ({ ...c, drifted: c.psi > config.psiThreshold || (c.ks ?? 0) > config.ksThreshold });
    const state = drift.problem !== '' ? 'failed' : drift.inputs.features === undefined || drift.outputs.features === undefined ? 'collecting-baseline' : 'monitoring';
    return {
      model,
      state,
      ...(drift.problem === '' ? {} : { problem: drift.problem }),
      baseline: { source: config.baselineFile === undefined ? `first ${config.baselineRows} rows` : config.baselineFile, inputRows: drift.inputs.baselineRows, outputRows: drift.outputs.baselineRows },
      window: {
        rows: config.windowRows,
        inputRowsFilled: drift.inputs.windowFill,
        outputRowsFilled: drift.outputs.windowFill,
        inputWindowsCompleted: drift.inputs.windowsCompleted,
        outputWindowsCompleted: drift.outputs.windowsCompleted,
      },
      thresholds: { psi: config.psiThreshold, ks: config.ksThreshold },
      inputs: drift.inputs.last.map(mark),
      outputs: drift.outputs.last.map(mark),
    };
  }

  private driftOf(served: ServedVersion): ModelDrift | null {
    let drift = this.byServed.get(served);
    if (drift !== undefined) return drift;
    const config = served.config?.drift;
    drift = this.byModel.get(served.name) ?? null;
    if (drift === null && config !== undefined) {
      drift = new ModelDrift(served.name, served.signature.inputs, served.signature.maxBatchSize > 0, config, (result) => this.onWindow(served.name, result));
      this.byModel.set(served.name, drift);
      if (config.baselineFile !== undefined) void this.loadReference(drift, served);
    }
    this.byServed.set(served, drift);
    return drift;
  }

  private onWindow(model: string, result: WindowResult): void {
    const drift = this.byModel.get(model)!;
    const { psiThreshold, ksThreshold } = drift.config;
    const metrics = this.options.metrics;
    for (const c of result.comparisons) {
      metrics?.gauge('sibyl_drift_psi').labels(model, c.name).set(c.psi);
      if (c.ks !== undefined) metrics?.gauge('sibyl_drift_ks').labels(model, c.name).set(c.ks);
      for (const [statistic, value, threshold] of [
        ['psi', c.psi, psiThreshold],
        ['ks', c.ks, ksThreshold],
      ] as const) {
        if (value === undefined) continue;
        const exceeded = value > threshold;
        metrics?.gauge('sibyl_drift_threshold_exceeded').labels(model, c.name, statistic).set(exceeded ? 1 : 0);
        if (!exceeded) continue;
        metrics?.counter('sibyl_drift_alerts_total').labels(model, c.name, statistic).inc();
        this.options.log.warn(
          { model, feature: c.name, side: result.side, statistic, value, threshold },
          `drift: model '${model}' ${result.side === 'inputs' ? 'input' : 'output'} '${c.name}' has ${statistic.toUpperCase()} ${value.toFixed(3)} over the last ${drift.config.windowRows} rows, above its threshold ${threshold}`,
        );
      }
    }
    metrics?.gauge('sibyl_drift_baseline_rows').labels(model).set(drift.inputs.baselineRows);
  }

  /** Input baseline from the reference file; output baseline from running its rows through the model. */
  private async loadReference(drift: ModelDrift, served: ServedVersion): Promise<void> {
    const file = drift.config.baselineFile!;
    try {
      const reference = await readReferenceCsv(file);
      drift.setInputBaseline(reference.columns, reference.names);
      this.options.metrics?.gauge('sibyl_drift_baseline_rows').labels(drift.model).set(drift.inputs.baselineRows);
      await this.runReference(drift, served, reference.columns);
      drift.finishOutputBaseline();
      this.options.log.info({ model: drift.model, rows: drift.inputs.baselineRows, file }, `drift: baseline of model '${drift.model}' from ${file}`);
    } catch (err) {
      drift.problem = (err as Error).message;
      this.options.log.error({ model: drift.model, file }, `drift: ${drift.problem}`);
    } finally {
      drift.awaitingReference = false;
    }
  }

  private async runReference(drift: ModelDrift, served: ServedVersion, columns: readonly Float64Array[]): Promise<void> {
    const layout = drift.inputLayout!;
    const rows = columns[0]?.length ?? 0;
    const batched = served.signature.maxBatchSize > 0;
    const chunk = batched ? served.signature.maxBatchSize : 1;
    const outputNames = served.signature.outputs.map((o) => o.name);
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      let column = 0;
      const inputs: Tensor[] = layout.map((slot) => {
        const meta = served.signature.inputs.find((t) => t.name === slot.name)!;
        const datatype = meta.datatype as FixedDatatype;
        const data = new TYPED_ARRAY[datatype](n * slot.perRow);
        for (let r = 0; r < n; r++) {
          for (let j = 0; j < slot.perRow; j++) {
            const v = columns[column + j]![start + r]!;
            (data as unknown as (number | bigint)[])[r * slot.perRow + j] = isBigIntDatatype(datatype) ? BigInt(Math.round(v)) : v;
          }
        }
        column += slot.perRow;
        return { name: slot.name, datatype, shape: batched ? [n, ...meta.shape.slice(1)] : [...meta.shape], data };
      });
      const outputs = await served.execute({ inputs, outputNames, rows: batched ? n : 1, batchKey: batchKeyOf(inputs, outputNames) }, { priority: Number.MAX_SAFE_INTEGER });
      drift.observeOutputs(outputs, true);
    }
  }
}
