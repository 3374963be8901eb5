// A cascade's decision after a stage: which rows are confident enough to stop here. Pure.
import { SibylError, type Tensor } from '@sibyl/protocol';
import { rowMaxima } from '../../core/tensor-rows.ts';

const SCORES = new Set(['FP32', 'FP64']);

/**
 * Rows of `output` whose largest value is below `threshold`: they go on to the next stage.
 * @throws SibylError INTERNAL_ERROR when the output is not a float tensor of scores.
 */
export function uncertainRows(output: Tensor, threshold: number, stageName: string): number[] {
  if (!SCORES.has(output.datatype)) {
    throw new SibylError('INTERNAL_ERROR', `cascade stage ${stageName}: output '${output.name}' is ${output.datatype}; a confidence output must be FP32 or FP64 scores (probabilities)`);
  }
  const { max } = rowMaxima(output);
  // Compared at the output's precision: an FP32 score of 0.9 is 0.89999998 in float64.
  const limit = output.datatype === 'FP32' ? Math.fround(threshold) : threshold;
  const rows: number[] = [];
  for (let r = 0; r < max.length; r++) if (!(max[r]! >= limit)) rows.push(r);
  return rows;
}
