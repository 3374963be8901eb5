// The .proto files against the public protocol: every message Sibyl serves must have exactly the
// field numbers and types of Triton's grpc_service.proto and model_config.proto (of which
// KServe's open_inference_grpc.proto is a subset), or stock clients silently misread it. The
// table below is transcribed from those files (triton-inference-server/common, protobuf/, at
// 501aa7536daf and 08365eae35e2) and ../shared/reference/protocols.md, independently of our .proto.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => PROTO_DIR + target.replace(/^.*\//, '');
root.loadSync('grpc_service.proto', { keepCase: true });
root.resolveAll();

// message → "field number type[ repeated]" in declaration-independent order.
const PUBLIC: Record<string, string[]> = {
  ServerLiveResponse: ['live 1 bool'],
  ServerReadyResponse: ['ready 1 bool'],
  ModelReadyRequest: ['name 1 string', 'version 2 string'],
  ModelReadyResponse: ['ready 1 bool'],
  ServerMetadataResponse: ['name 1 string', 'version 2 string', 'extensions 3 string repeated'],
  ModelMetadataRequest: ['name 1 string', 'version 2 string'],
  ModelMetadataResponse: ['name 1 string', 'versions 2 string repeated', 'platform 3 string', 'inputs 4 TensorMetadata repeated', 'outputs 5 TensorMetadata repeated'],
  'ModelMetadataResponse.TensorMetadata': ['name 1 string', 'datatype 2 string', 'shape 3 int64 repeated'],
  InferParameter: ['bool_param 1 bool', 'int64_param 2 int64', 'string_param 3 string', 'double_param 4 double', 'uint64_param 5 uint64'],
  InferTensorContents: [
    'bool_contents 1 bool repeated',
    'int_contents 2 int32 repeated',
    'int64_contents 3 int64 repeated',
    'uint_contents 4 uint32 repeated',
    'uint64_contents 5 uint64 repeated',
    'fp32_contents 6 float repeated',
    'fp64_contents 7 double repeated',
    'bytes_contents 8 bytes repeated',
  ],
  ModelInferRequest: [
    'model_name 1 string',
    'model_version 2 string',
    'id 3 string',
    'parameters 4 map<string,InferParameter>',
    'inputs 5 InferInputTensor repeated',
    'outputs 6 InferRequestedOutputTensor repeated',
    'raw_input_contents 7 bytes repeated',
  ],
  'ModelInferRequest.InferInputTensor': ['name 1 string', 'datatype 2 string', 'shape 3 int64 repeated', 'parameters 4 map<string,InferParameter>', 'contents 5 InferTensorContents'],
  'ModelInferRequest.InferRequestedOutputTensor': ['name 1 string', 'parameters 2 map<string,InferParameter>'],
  ModelInferResponse: [
    'model_name 1 string',
    'model_version 2 string',
    'id 3 string',
    'parameters 4 map<string,InferParameter>',
    'outputs 5 InferOutputTensor repeated',
    'raw_output_contents 6 bytes repeated',
  ],
  'ModelInferResponse.InferOutputTensor': ['name 1 string', 'datatype 2 string', 'shape 3 int64 repeated', 'parameters 4 map<string,InferParameter>', 'contents 5 InferTensorContents'],
  ModelStreamInferResponse: ['error_message 1 string', 'infer_response 2 ModelInferResponse'],
  ModelConfigRequest: ['name 1 string', 'version 2 string'],
  ModelConfigResponse: ['config 1 ModelConfig'],
  ModelStatisticsRequest: ['name 1 string', 'version 2 string'],
  StatisticDuration: ['count 1 uint64', 'ns 2 uint64'],
  InferStatistics: [
    'success 1 StatisticDuration',
    'fail 2 StatisticDuration',
    'queue 3 StatisticDuration',
    'compute_input 4 StatisticDuration',
    'compute_infer 5 StatisticDuration',
    'compute_output 6 StatisticDuration',
    'cache_hit 7 StatisticDuration',
    'cache_miss 8 StatisticDuration',
  ],
  InferBatchStatistics: ['batch_size 1 uint64', 'compute_input 2 StatisticDuration', 'compute_infer 3 StatisticDuration', 'compute_output 4 StatisticDuration'],
  ModelStatistics: [
    'name 1 string',
    'version 2 string',
    'last_inference 3 uint64',
    'inference_count 4 uint64',
    'execution_count 5 uint64',
    'inference_stats 6 InferStatistics',
    'batch_stats 7 InferBatchStatistics repeated',
    'memory_usage 8 MemoryUsage repeated',
    'response_stats 9 map<string,InferResponseStatistics>',
  ],
  ModelStatisticsResponse: ['model_stats 1 ModelStatistics repeated'],
  ModelRepositoryParameter: ['bool_param 1 bool', 'int64_param 2 int64', 'string_param 3 string', 'bytes_param 4 bytes'],
  RepositoryIndexRequest: ['repository_name 1 string', 'ready 2 bool'],
  RepositoryIndexResponse: ['models 1 ModelIndex repeated'],
  'RepositoryIndexResponse.ModelIndex': ['name 1 string', 'version 2 string', 'state 3 string', 'reason 4 string'],
  RepositoryModelLoadRequest: ['repository_name 1 string', 'model_name 2 string', 'parameters 3 map<string,ModelRepositoryParameter>'],
  RepositoryModelUnloadRequest: ['repository_name 1 string', 'model_name 2 string', 'parameters 3 map<string,ModelRepositoryParameter>'],
  // model_config.proto: the fields Sibyl fills (the others are absent, which is allowed).
  ModelConfig: [
    'name 1 string',
    'platform 2 string',
    'version_policy 3 ModelVersionPolicy',
    'max_batch_size 4 int32',
    'input 5 ModelInput repeated',
    'output 6 ModelOutput repeated',
    'instance_group 7 ModelInstanceGroup repeated',
    'default_model_filename 8 string',
    'dynamic_batching 11 ModelDynamicBatching',
    'backend 17 string',
  ],
  ModelInput: ['name 1 string', 'data_type 2 DataType', 'dims 4 int64 repeated'],
  ModelOutput: ['name 1 string', 'data_type 2 DataType', 'dims 3 int64 repeated'],
  ModelInstanceGroup: ['name 1 string', 'count 2 int32', 'kind 4 Kind'],
  ModelDynamicBatching: ['preferred_batch_size 1 int32 repeated', 'max_queue_delay_microseconds 2 uint64'],
};

function describeFields(type: protobuf.Type): string[] {
  return type.fieldsArray
    .map((f) => {
      const kind = f instanceof protobuf.MapField ? `map<${f.keyType},${f.type}>` : f.type;
      return `${f.name} ${f.id} ${kind}${f.repeated ? ' repeated' : ''}`;
    })
    .sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1]));
}

describe('proto/grpc_service.proto matches the public protocol', () => {
  it('package inference, service GRPCInferenceService, with the RPCs of the issue and their streaming kinds', () => {
    const service = root.lookupService('inference.GRPCInferenceService');
    expect(service.methodsArray.map((m) => `${m.name}(${m.requestStream ? 'stream ' : ''}${m.requestType}) → ${m.responseStream ? 'stream ' : ''}${m.responseType}`)).toEqual([
      'ServerLive(ServerLiveRequest) → ServerLiveResponse',
      'ServerReady(ServerReadyRequest) → ServerReadyResponse',
      'ModelReady(ModelReadyRequest) → ModelReadyResponse',
      'ServerMetadata(ServerMetadataRequest) → ServerMetadataResponse',
      'ModelMetadata(ModelMetadataRequest) → ModelMetadataResponse',
      'ModelInfer(ModelInferRequest) → ModelInferResponse',
      'ModelStreamInfer(stream ModelInferRequest) → stream ModelStreamInferResponse',
      'ModelConfig(ModelConfigRequest) → ModelConfigResponse',
      'ModelStatistics(ModelStatisticsRequest) → ModelStatisticsResponse',
      'RepositoryIndex(RepositoryIndexRequest) → RepositoryIndexResponse',
      'RepositoryModelLoad(RepositoryModelLoadRequest) → RepositoryModelLoadResponse',
      'RepositoryModelUnload(RepositoryModelUnloadRequest) → RepositoryModelUnloadResponse',
    ]);
  });

  it.each(Object.entries(PUBLIC))('%s has the public field numbers and types', (name, fields) => {
    expect(describeFields(root.lookupType(`inference.${name}`))).toEqual([...fields].sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1])));
  });

  it('DataType has the public enum numbers (TYPE_STRING is the protocol BYTES)', () => {
    expect(root.lookupEnum('inference.DataType').values).toEqual({
      TYPE_INVALID: 0,
      TYPE_BOOL: 1,
      TYPE_UINT8: 2,
      TYPE_UINT16: 3,
      TYPE_UINT32: 4,
      TYPE_UINT64: 5,
      TYPE_INT8: 6,
      TYPE_INT16: 7,
      TYPE_INT32: 8,
      TYPE_INT64: 9,
      TYPE_FP16: 10,
      TYPE_FP32: 11,
      TYPE_FP64: 12,
      TYPE_STRING: 13,
      TYPE_BF16: 14,
    });
    expect(root.lookupEnum('inference.ModelInstanceGroup.Kind').values).toEqual({ KIND_AUTO: 0, KIND_GPU: 1, KIND_CPU: 2, KIND_MODEL: 3 });
  });
});
