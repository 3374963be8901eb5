// An embedding lookup, the way embedding models begin: a Gather over a table. onnxruntime fails a
// run whose indices fall outside the table, naming the offending index — the model behind
// issue 13's H3 (one client's bad input failing everyone batched with it).
import { OnnxModelBuilder } from './onnx-builder.ts';

/**
 * Input `ids` INT64 [batch, tokens] indexes the rows of a `rows`×`width` table (Gather, axis 0);
 * output `embeddings` FP32 [batch, tokens, width]. Row r of the table is r·10 + 0 … r·10 +
 * width − 1 (see embeddingExpected). A run with an id outside [−rows, rows − 1] fails with
 * "indices element out of data bounds, idx=<id> must be within the inclusive range [−rows,rows−1]".
 */
export function embeddingModel(params: { rows: number; width: number; tokens: number }): { bytes: Uint8Array } {
  const { rows, width, tokens } = params;
  const table = Array.from({ length: rows * width }, (_, i) => Math.floor(i / width) * 10 + (i % width));
  const bytes = new OnnxModelBuilder()
    .input('ids', 'INT64', ['batch', tokens])
    .initializer('table', 'FP32', [rows, width], table)
    .node('Gather', ['table', 'ids'], ['embeddings'], { axis: 0 })
    .output('embeddings', 'FP32', ['batch', tokens, width])
    .build();
  return { bytes };
}

/** What embeddingModel outputs for in-range `ids` (one request's rows, flattened). */
export function embeddingExpected(ids: readonly number[], width: number): number[] {
  return ids.flatMap((id) => Array.from({ length: width }, (_, j) => id * 10 + j));
}
