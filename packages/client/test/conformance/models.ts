// The models the conformance table runs against, and the values they are built from. The
// expectations of cases.ts are computed from these numbers independently of any server.
import type { Datatype } from '@sibyl/protocol';

/** Datatypes with an identity model: all of them but BF16, which onnxruntime-node cannot run. */
export const IDENTITY_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const satisfies readonly Datatype[];

export const identityModelName = (datatype: Datatype): string => `identity_${datatype.toLowerCase()}`;

/** A 4-feature, 3-class linear classifier: logits = x·W + b, probabilities = softmax(logits). */
export const LINEAR = {
  weights: [
    [0.5, -1, 0.25],
    [1.5, 0.5, -0.75],
    [-0.5, 2, 1],
    [1, -0.25, 0.5],
  ],
  bias: [0.1, -0.2, 0.3],
};

/** `labelled` version n multiplies its input's first feature by n (a 2 → 1 linear model). */
export const LABELLED_WEIGHTS: Record<number, number[][]> = { 1: [[1], [0]], 2: [[2], [0]] };

/** Big enough that one run takes a few hundred milliseconds. */
export const SLOW = { size: 2048, depth: 100 };
