// @sibyl/protocol: the wire contract shared by Sibyl's server and clients. Runs in Node and
// browsers. Explicit exports only: what is not listed here is internal to the package.
export { DATATYPES, TYPED_ARRAY, elementCount, elementSize, isBigIntDatatype, isDatatype } from './datatypes.ts';
export type { BytesElements, Datatype, FixedDatatype, TensorData, TypedArray, TypedArrayOf } from './datatypes.ts';

export {
  CODE_CLASS,
  CODE_STATUS,
  ERROR_CODES,
  GRPC_STATUS,
  REASONS,
  SibylError,
  classOf,
  codeOfHttpStatus,
  faultOf,
  grpcStatusOf,
  httpStatusOf,
  isErrorCode,
  isErrorReason,
  isInputFault,
  isRetriable,
  isServerFault,
  isUnexpectedServerFault,
  reasonOfHttpStatus,
} from './errors.ts';
export type { Classifiable, ErrorBody, ErrorClass, ErrorCode, ErrorReason, Fault, FaultSubject } from './errors.ts';

export type {
  InferRequest,
  InferResponse,
  ModelMetadata,
  ParameterValue,
  Parameters,
  RepositoryIndexEntry,
  RequestedOutput,
  ServerMetadata,
  Tensor,
  TensorMetadata,
} from './infer.ts';

export { fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from './fp16.ts';

export { decodeBytesElements, encodeBytesElements, tensorDataFromBytes, tensorDataToBytes } from './tensor-bytes.ts';

export { decodeInferRequest, decodeInferResponse, encodeInferRequest, encodeInferResponse, parseJsonExact, tensorDataFromJson, tensorDataToNestedJson } from './json-codec.ts';

export {
  binaryOutputSelector,
  decodeInferRequestBinary,
  decodeInferResponseBinary,
  decodeRawInferRequest,
  encodeInferRequestBinary,
  encodeInferResponseBinary,
} from './binary-codec.ts';
export type { BinaryBody, RawInputMetadata } from './binary-codec.ts';
export type { DecodeRequestOptions } from './json-codec.ts';

export {
  CONTENTS_FIELD,
  GRPC_ERROR_METADATA,
  GRPC_LOADER_OPTIONS,
  GRPC_PROTO_FILES,
  decodeGrpcInferRequest,
  decodeGrpcInferResponse,
  encodeGrpcInferRequest,
  encodeGrpcInferResponse,
  parametersFromGrpc,
  parametersToGrpc,
} from './grpc-codec.ts';
export type {
  GrpcInferParameter,
  GrpcInferTarget,
  GrpcInt64,
  GrpcModelInferRequest,
  GrpcModelInferResponse,
  GrpcParameters,
  GrpcTensor,
  GrpcTensorContents,
} from './grpc-codec.ts';

export { withTimeoutParameter } from './deadline-parameter.ts';

export { checkGrpcInferRequestWire } from './grpc-wire-limits.ts';

export { REQUEST_LIMITS, countBytesElements, countTensorElements, limitExceeded, type ElementLimits } from './request-limits.ts';

export { MAX_REQUEST_ID_LENGTH } from './request-id.ts';

export { MAX_NAME_LENGTH, NAME_RULE, checkName, nameError, nameProblem, type NameKind } from './names.ts';

export { MAX_LOOKUP_KEYS } from './management.ts';
export type {
  BatchJobJson,
  BatchJobListJson,
  BatchJobProgressJson,
  BatchJobStartRequestJson,
  BatchJobStatus,
  BatchScheduleJson,
  BatchScheduleListJson,
  BlueGreenReportJson,
  BlueGreenSwitchJson,
  BlueGreenSwitchRequestJson,
  CanaryAction,
  CanaryActionRequestJson,
  CanaryReportJson,
  CascadeReportJson,
  EmptyJson,
  EndpointArmJson,
  EndpointDeleteJson,
  EndpointListJson,
  EndpointReportJson,
  EndpointSummaryJson,
  FeedbackItemJson,
  FeedbackJson,
  FeedbackRequestJson,
  HybridReportJson,
  LabelMoveJson,
  LabelMoveRequestJson,
  LabelRollbackJson,
  LabelSource,
  LogLevel,
  LogLevelJson,
  LoggedTensorJson,
  ModelLabelJson,
  ModelLabelsJson,
  ModelListJson,
  ModelLoadRequestJson,
  ModelStatusJson,
  ModelUnloadRequestJson,
  ModelVersionJson,
  ModelVersionState,
  PredictionLogJson,
  PredictionLogRecordJson,
  PredictionLookupJson,
  PredictionLookupRequestJson,
  ShadowReportJson,
  StateSnapshotJson,
  StoredOutputJson,
  StoredPredictionJson,
} from './management.ts';
