// Inference requests and responses as the server and clients handle them in memory: tensors
// hold typed arrays, never JSON arrays. JSON and binary are wire formats, decoded once at the
// edge (see json-codec.ts and binary-codec.ts).
import type { Datatype, TensorData } from './datatypes.ts';

/** A parameter value of the protocol (`InferParameter`): bool, int64, string or double. */
export type ParameterValue = string | number | boolean | bigint;
export type Parameters = Record<string, ParameterValue>;

/** A named tensor: row-major `data` of `datatype` with `shape` (its element count equals data's length). */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
  parameters?: Parameters;
}

/** An output the client asks for, with its per-output parameters (`binary_data`, …). */
export interface RequestedOutput {
  name: string;
  parameters?: Parameters;
}

export interface InferRequest {
  /** Echoed in the response; absent when the client sent none. */
  id?: string;
  parameters?: Parameters;
  inputs: Tensor[];
  /** Absent: every output of the model, with default settings. */
  outputs?: RequestedOutput[];
}

export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}

/** Tensor metadata as model metadata reports it; -1 marks a variable dimension. */
export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/** `GET /v2/models/{m}[/versions/{v}]` response body. */
export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** `GET /v2` response body. */
export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** One row of `POST /v2/repository/index` (Triton's model repository extension). */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state: string;
  reason: string;
}
