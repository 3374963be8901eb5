// Ready-made models for the server's tests. Each factory returns the model bytes and what a
// test needs to know about it; expectations are computed by the plain functions here, never
// by running onnxruntime, so a test compares the server against independent arithmetic.

import { OnnxModelBuilder } from './onnx-builder.ts';
import type { Dim } from './onnx-builder.ts';
import type { TensorDatatype } from './tensor-data.ts';

/**
 * Identity from input `input` to output `output`, both `datatype` with `shape`.
 *
 * onnxruntime-node 1.30 runs it for every datatype but BF16: a graph input or output of type
 * bfloat16 makes `InferenceSession.create` reject with "Unsupported data type: 16" (the Node
 * binding has no bfloat16 tensor type; bfloat16 inside a graph is fine). The BF16 model is
 * still built so tests can check how the server reports that. BYTES elements pass as JS
 * strings: onnxruntime-node cuts an input string at its first NUL and replaces invalid UTF-16
 * with U+FFFD, so only NUL-free text survives the round trip.
 */
export function identityModel(
  datatype: TensorDatatype,
  shape: readonly Dim[],
): { bytes: Uint8Array; input: 'input'; output: 'output'; datatype: TensorDatatype; shape: readonly Dim[] } {
  const bytes = new OnnxModelBuilder()
    .input('input', datatype, shape)
    .node('Identity', ['input'], ['output'])
    .output('output', datatype, shape)
    .build();
  return { bytes, input: 'input', output: 'output', datatype, shape };
}

/**
 * A linear classifier: input `features` FP32 [batch, n]; outputs `logits` = features · W + b
 * (FP32 [batch, k]) and `probabilities` = softmax(logits) over the last axis. `weights` is
 * [n][k] (one row per feature, one column per class, as MatMul takes it); `bias` has k values.
 */
export function linearClassifierModel(params: { weights: readonly (readonly number[])[]; bias: readonly number[] }): {
  bytes: Uint8Array;
  features: number;
  classes: number;
} {
  const { weights, bias } = params;
  const n = weights.length;
  const k = bias.length;
  if (n === 0 || weights.some((row) => row.length !== k)) {
    throw new TypeError(`weights must be [n][${k}] with n ≥ 1 (one row per feature, ${k} = bias length)`);
  }
  const bytes = new OnnxModelBuilder()
    .input('features', 'FP32', ['batch', n])
    .initializer('W', 'FP32', [n, k], weights.flat())
    .initializer('b', 'FP32', [k], bias)
    .node('MatMul', ['features', 'W'], ['xw'])
    .node('Add', ['xw', 'b'], ['logits'])
    .node('Softmax', ['logits'], ['probabilities'], { axis: -1 })
    .output('logits', 'FP32', ['batch', k])
    .output('probabilities', 'FP32', ['batch', k])
    .build();
  return { bytes, features: n, classes: k };
}

/**
 * What linearClassifierModel computes for `rows` ([batch][n]), in float64 arithmetic: the
 * model computes in float32 (with float32 weights), so compare with a tolerance (~1e-5
 * relative for moderate values).
 */
export function linearClassifierExpected(
  weights: readonly (readonly number[])[],
  bias: readonly number[],
  rows: readonly (readonly number[])[],
): { logits: number[][]; probabilities: number[][] } {
  const logits = rows.map((row) =>
    bias.map((b, j) => row.reduce((sum, x, i) => sum + x * (weights[i]?.[j] ?? NaN), b)),
  );
  const probabilities = logits.map((z) => {
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const total = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / total);
  });
  return { logits, probabilities };
}

/**
 * Two INT64 [batch, 3] inputs `a` and `b`; outputs `sum` = a + b and `difference` = a − b,
 * exact (two's complement wrap-around on overflow).
 */
export function addSubModel(): { bytes: Uint8Array } {
  const bytes = new OnnxModelBuilder()
    .input('a', 'INT64', ['batch', 3])
    .input('b', 'INT64', ['batch', 3])
    .node('Add', ['a', 'b'], ['sum'])
    .node('Sub', ['a', 'b'], ['difference'])
    .output('sum', 'INT64', ['batch', 3])
    .output('difference', 'INT64', ['batch', 3])
    .build();
  return { bytes };
}

/**
 * A model that cannot batch: input `input` FP32 with the fixed shape [2, 3] (no symbolic
 * first dimension); output `output` = input + input, same shape. onnxruntime rejects any
 * other shape at run time ("Got invalid dimensions for input").
 */
export function fixedBatchModel(): { bytes: Uint8Array; shape: readonly [2, 3] } {
  const bytes = new OnnxModelBuilder()
    .input('input', 'FP32', [2, 3])
    .node('Add', ['input', 'input'], ['output'])
    .output('output', 'FP32', [2, 3])
    .build();
  return { bytes, shape: [2, 3] };
}

/**
 * A model whose run time is set by its size: input `input` FP32 [batch, size] goes through
 * `depth` MatMuls with one size×size weight (stored once). The weight is the permutation
 * that shifts each row right by one column, so the output `output` (FP32 [batch, size]) is
 * exactly the input rotated by `depth` columns (see slowModelExpected) while every layer
 * still costs a full dense MatMul, 2·batch·size² flops.
 *
 * Median `run` times on the 2-core bench machine (AMD EPYC, onnxruntime-node 1.30,
 * intraOpNumThreads 1, after warm-up; a guide for choosing parameters, never asserted):
 *
 *   size  depth   file     batch 1   batch 8   batch 64
 *    256     10   0.3 MB   0.08 ms   0.1 ms    0.5 ms
 *   1024     20   4.2 MB   1.2 ms    2.5 ms    23 ms
 *   1024    100   4.2 MB   6 ms      15 ms     113 ms
 *   2048     50    17 MB   20 ms     45 ms     210 ms
 *   2048    100    17 MB   30–60 ms  95–130 ms 370 ms
 *
 * Time grows linearly with depth; at size 2048 batch 1 is bound by memory bandwidth and
 * varies with what else the machine runs.
 */
export function slowModel(params: { size: number; depth: number }): { bytes: Uint8Array; size: number; depth: number } {
  const { size, depth } = params;
  if (!Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(depth) || depth < 1) {
    throw new TypeError(`slowModel needs integer size ≥ 1 and depth ≥ 1, got size ${size}, depth ${depth}`);
  }
  const weight = new Float32Array(size * size);
  for (let i = 0; i < size; i++) weight[i * size + ((i + 1) % size)] = 1; // W[i][i+1] = 1
  const builder = new OnnxModelBuilder()
    .input('input', 'FP32', ['batch', size])
    .initializer('W', 'FP32', [size, size], weight);
  let previous = 'input';
  for (let layer = 1; layer <= depth; layer++) {
    const next = layer === depth ? 'output' : `h${layer}`;
    builder.node('MatMul', [previous, 'W'], [next]);
    previous = next;
  }
  return { bytes: builder.output('output', 'FP32', ['batch', size]).build(), size, depth };
}

/** What slowModel outputs for `input` (batch·size values): each row rotated right by depth. */
export function slowModelExpected(input: Float32Array, size: number, depth: number): Float32Array {
  const out = new Float32Array(input.length);
  for (let row = 0; row < input.length; row += size) {
    for (let j = 0; j < size; j++) out[row + ((j + depth) % size)] = input[row + j]!;
  }
  return out;
}

/**
 * A well-formed model using `DoesNotExist` from the custom domain `com.sibyl.testing`
 * (imported at version 1), so onnxruntime rejects it when the session is created. Input
 * `input` FP32 [batch, 4], output `output` FP32 [batch, 4].
 */
export function unsupportedOpModel(): { bytes: Uint8Array; opType: string; domain: string } {
  const domain = 'com.sibyl.testing';
  const bytes = new OnnxModelBuilder()
    .opsetImport(domain, 1)
    .input('input', 'FP32', ['batch', 4])
    .node('DoesNotExist', ['input'], ['output'], {}, { domain })
    .output('output', 'FP32', ['batch', 4])
    .build();
  return { bytes, opType: 'DoesNotExist', domain };
}

/**
 * A model that loads but fails every run that is not a multiple of 7 values: it has the
 * signature of linearClassifierModel with `features` inputs and `classes` outputs (input
 * `features` FP32 [batch, n], outputs `logits` and `probabilities` FP32 [batch, k]) and reshapes
 * its input to [7, -1], which onnxruntime refuses at run time. A broken release for tests.
 */
export function runtimeFailureModel(params: { features: number; classes: number }): { bytes: Uint8Array } {
  const bytes = new OnnxModelBuilder()
    .input('features', 'FP32', ['batch', params.features])
    .initializer('shape', 'INT64', [2], [7n, -1n])
    .node('Reshape', ['features', 'shape'], ['logits'])
    .node('Softmax', ['logits'], ['probabilities'], { axis: -1 })
    .output('logits', 'FP32', ['batch', params.classes])
    .output('probabilities', 'FP32', ['batch', params.classes])
    .build();
  return { bytes };
}

/** Text that a `model.onnx` may hold but no protobuf parser accepts (a stray end-group tag). */
export const CORRUPT_MODEL_TEXT = 'this is not an ONNX model\n';

/** Bytes that are not a ModelProto: CORRUPT_MODEL_TEXT encoded as UTF-8. */
export function corruptModelBytes(): Uint8Array {
  return new TextEncoder().encode(CORRUPT_MODEL_TEXT);
}
