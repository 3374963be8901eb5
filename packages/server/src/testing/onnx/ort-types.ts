// onnxruntime-node's name for each datatype's tensor type, for tests that feed models
// directly. BF16 has none: onnxruntime-node 1.30 cannot create, feed or return bfloat16
// tensors (a model with a bfloat16 graph input or output fails to load).

import type { Tensor } from 'onnxruntime-node';
import type { TensorDatatype } from './tensor-data.ts';

export const ORT_TENSOR_TYPE: { readonly [D in TensorDatatype]: Tensor.Type | undefined } = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  BF16: undefined,
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
