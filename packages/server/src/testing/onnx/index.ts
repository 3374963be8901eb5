// Building ONNX models in code for tests and benchmarks: the builder, ready-made models with
// independently computed expectations, and model repositories in temporary directories.

export { attr } from './attributes.ts';
export type { AttributeValue, TypedAttribute } from './attributes.ts';
export { OnnxModelBuilder } from './onnx-builder.ts';
export type { Dim, NodeOptions, OnnxModelBuilderOptions } from './onnx-builder.ts';
export { ONNX_PROTO_SUBSET, parseOnnxProto } from './onnx-proto.ts';
export type { OnnxProtoTypes } from './onnx-proto.ts';
export { bfloat16Bits, float16Bits, float16Value, ONNX_DATA_TYPE } from './tensor-data.ts';
export type { TensorDatatype, TensorValues } from './tensor-data.ts';
export {
  addSubModel,
  CORRUPT_MODEL_TEXT,
  corruptModelBytes,
  fixedBatchModel,
  identityModel,
  linearClassifierExpected,
  linearClassifierModel,
  runtimeFailureModel,
  slowModel,
  slowModelExpected,
  unsupportedOpModel,
} from './models.ts';
export { embeddingExpected, embeddingModel } from './embedding-model.ts';
export { makeTempDir, removeDir, writeModelRepository } from './model-repository.ts';
export type { ModelFiles } from './model-repository.ts';
export { ORT_TENSOR_TYPE } from './ort-types.ts';
export { sampleValues } from './sample-values.ts';
export type { SampleValuesOf } from './sample-values.ts';
