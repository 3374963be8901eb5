// KServe's Python REST client (kserve.InferenceRESTClient with RESTConfig(protocol="v2")),
// re-implemented from its source so its HTTP traffic can be replayed against Sibyl without PyPI.
// Sources read (GitHub, via the stored index):
//
//   kserve/kserve
//     python/kserve/kserve/inference_client.py            @ 0217bdabaaa250485b336805da1aed04960dc758
//       InferenceRESTClient: httpx.AsyncClient; _construct_url joins base_url + "v2/...".
//       infer(base_url, data: InferRequest, model_name): data, json_length = data.to_rest();
//         if json_length: headers["inference-header-content-length"] = str(json_length),
//                         headers["content-type"] = "application/octet-stream";
//         if dict: data = orjson.dumps(data)  (sent with content= → NO Content-Type header);
//         POST .../v2/models/{model_name}/infer;
//         if not response.is_success: raise _construct_http_status_error(response);
//         json_length = response.headers.get("inference-header-content-length", len(response.content));
//         return InferResponse.from_bytes(response.content, int(json_length)).
//       _construct_http_status_error: error_message = "" and ONLY
//         `if "content-type" in response.headers and response.headers["content-type"] == "application/json"`
//         → error_message = response.json()["error"] (if present); message =
//         "{error_message}, '{status_code} {reason_phrase}' for url '{url}'" (httpx.HTTPStatusError).
//       is_server_live:  GET v2/health/live;  not is_success → raise; return response.json().get("live").
//       is_server_ready: GET v2/health/ready; not is_success → raise; return response.json().get("ready").
//       is_model_ready:  GET v2/models/{name}/ready; return response.is_success (503 → False).
//       (This version of the REST client has no server/model metadata calls.)
//     python/kserve/kserve/protocol/infer_type.py          @ 0217bdabaaa250485b336805da1aed04960dc758
//       InferInput.set_data_from_numpy(t, binary_data=True): binary → _raw_data = t.tobytes()
//         (BYTES: serialize_byte_tensor), parameters = {"binary_data_size": n}; JSON → _data =
//         [v.item() ...] (BYTES: str(obj, "utf-8")).
//       InferRequest.to_rest(): per input: ndarray data → set_data_from_numpy(binary_data=False);
//         {"name", "shape", "datatype"} + "parameters" (if truthy) + "data" unless raw;
//         res = {"id": self.id or str(uuid.uuid4()), "model_name": ..., "inputs": [...]}
//         + "outputs" (if any) + "parameters" (if truthy);
//         any raw input → (orjson.dumps(res) + raw inputs, len(json bytes)) else (res, None).
//       InferResponse.from_bytes(res_bytes, json_length): orjson.loads(res_bytes[:json_length]);
//         REQUIRES "model_name" (KeyError otherwise) and per output "name", "shape", "datatype";
//         binary_data_size → raw slice (offsets in output order), decoded then turned into a
//         list (set_data_from_numpy(binary_data=False)); else "data" is required
//         ("'data' field is missing for output ..."). "id" and "parameters" via .get (optional);
//         "model_version" is not read.
//       InferOutput.as_numpy(): np.array(data, dtype=to_np_dtype(datatype)).reshape(shape).
//     python/kserve/kserve/protocol/rest/v2_datamodels.py  @ 153e56fa26088eadd7b2b8efc6c444e5135d77fd
//       ServerLiveResponse {live: bool}, ServerReadyResponse {ready: bool}, ModelReadyResponse
//       {name, ready}, ServerMetadataResponse {name, version, extensions}, ModelMetadataResponse
//       {name, versions?, platform, inputs, outputs}, InferenceResponse {model_name,
//       model_version?, id, parameters?, outputs}: the shapes a KServe server answers with.
//     python/kserve/kserve/constants/constants.py: INFERENCE_CONTENT_LENGTH_HEADER = "inference-header-content-length".
//     python/kserve/kserve/utils/numpy_codec.py: to_np_dtype (BYTES → object, FP32 → float32, ...).
//
//   encode/httpx (the transport)
//     httpx/_content.py @ 004a81d670e00473c9f4ad11f984e5c645823559
//       encode_content(bytes): headers {"Content-Length": n} only — no Content-Type.
//     Client default headers: Accept "*/*", Accept-Encoding "gzip, deflate", Connection
//     "keep-alive", User-Agent "python-httpx/<version>"; Host is put first. Responses with
//     Content-Encoding gzip/deflate are decoded transparently.
import { randomUUID } from 'node:crypto';
import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { buildRequest, exchange, type WireResponse } from './wire.ts';
import {
  deserializeBytesTensor,
  dumps,
  frombuffer,
  fromList,
  items,
  loads,
  reshape,
  serializeByteTensor,
  tobytes,
  type Datatype,
  type JsonValue,
  type NdArray,
  type PyValue,
} from './python.ts';

export const HTTPX_USER_AGENT = 'python-httpx/0.28.1';
const INFERENCE_CONTENT_LENGTH_HEADER = 'inference-header-content-length';

const REASON: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 413: 'Payload Too Large', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** httpx.HTTPStatusError as _construct_http_status_error builds it. */
export class HTTPStatusError extends Error {
  constructor(
    message: string,
    readonly response: HttpxResponse,
  ) {
    super(message);
  }
}

/** The parts of httpx.Response the client uses. */
export interface HttpxResponse {
  statusCode: number;
  reasonPhrase: string;
  url: string;
  headers: (name: string) => string | undefined;
  /** Decoded (decompressed) body. */
  content: Uint8Array;
  isSuccess: boolean;
  json: () => JsonValue;
}

function toHttpx(res: WireResponse, url: string): HttpxResponse {
  let content: Uint8Array = res.body;
  const encoding = res.header('content-encoding')?.toLowerCase();
  if (encoding === 'gzip') content = gunzipSync(content);
  else if (encoding === 'deflate') {
    try {
      content = inflateSync(content);
    } catch {
      content = inflateRawSync(content);
    }
  }
  return {
    statusCode: res.status,
    // httpx takes the reason phrase from the status line (h11), falling back to the standard one.
    reasonPhrase: res.reason !== '' ? res.reason : (REASON[res.status] ?? ''),
    url,
    headers: (name) => res.header(name),
    content,
    isSuccess: res.status >= 200 && res.status < 300,
    json: () => loads(content),
  };
}

/** kserve.protocol.infer_type.InferInput */
export class KInferInput {
  rawData: Uint8Array | undefined;
  constructor(
    readonly name: string,
    readonly shape: number[],
    readonly datatype: Datatype,
    public data: PyValue[] | NdArray | undefined = undefined,
    public parameters: Record<string, PyValue> | undefined = undefined,
  ) {}

  setDataFromNumpy(t: NdArray, binaryData = true): this {
    if (t.dtype !== this.datatype) throw new Error(`got unexpected datatype ${t.dtype} from numpy array, expected ${this.datatype}`);
    if (t.shape.length !== this.shape.length || t.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`got unexpected numpy array shape [${t.shape.join(', ')}], expected [${this.shape.join(', ')}]`);
    }
    if (!binaryData) {
      if (this.parameters) delete this.parameters.binary_data_size;
      this.rawData = undefined;
      if (this.datatype === 'BYTES') {
        const dec = new TextDecoder('utf-8', { fatal: true });
        this.data = (t.values as readonly (Uint8Array | string)[]).map((v) => (typeof v === 'string' ? v : dec.decode(v)));
      } else this.data = items(t);
    } else {
      this.data = undefined;
      this.rawData = this.datatype === 'BYTES' ? serializeByteTensor(t) : tobytes(t);
      if (this.parameters === undefined) this.parameters = { binary_data_size: this.rawData.length };
      else this.parameters.binary_data_size = this.rawData.length;
    }
    return this;
  }
}

export class KRequestedOutput {
  constructor(
    readonly name: string,
    readonly parameters?: Record<string, PyValue>,
  ) {}
}

/** Python truthiness of the containers the client tests with `if x:`. */
const truthy = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== false && v !== 0 && v !== '' && !(Array.isArray(v) && v.length === 0) && !(v instanceof Uint8Array && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && Object.keys(v).length === 0);

/** kserve.protocol.infer_type.InferRequest (REST side) */
export class KInferRequest {
  id: string | undefined;
  constructor(
    readonly modelName: string,
    readonly inputs: KInferInput[],
    options: { requestId?: string; parameters?: Record<string, PyValue>; requestOutputs?: KRequestedOutput[] } = {},
  ) {
    this.id = options.requestId;
    this.parameters = options.parameters;
    this.requestOutputs = options.requestOutputs;
  }
  readonly parameters: Record<string, PyValue> | undefined;
  readonly requestOutputs: KRequestedOutput[] | undefined;

  /** to_rest(): [dict, null] or [bytes, json_length]. The dict is returned already as orjson would write it. */
  toRest(): { json: Record<string, PyValue>; body: Uint8Array | undefined; jsonLength: number | undefined } {
    const inferInputs: Record<string, PyValue>[] = [];
    const rawInputs: Uint8Array[] = [];
    for (const input of this.inputs) {
      if ((input.data === undefined || input.data === null) && input.rawData === undefined) {
        throw new Error(`'data' field is missing for output '${input.name}' for model '${this.modelName}'`);
      }
      if (input.data !== undefined && !Array.isArray(input.data)) input.setDataFromNumpy(input.data as NdArray, false);
      if (truthy(input.data) && truthy(input.rawData)) throw new Error(`Both 'data' and 'raw_data' fields are set for input '${input.name}'`);
      const dict: Record<string, PyValue> = { name: input.name, shape: input.shape, datatype: input.datatype };
      if (truthy(input.parameters)) dict.parameters = { ...input.parameters! };
      if (truthy(input.rawData)) rawInputs.push(input.rawData!);
      else dict.data = (input.data as PyValue[] | undefined) ?? null;
      inferInputs.push(dict);
    }
    const requestedOutputs: Record<string, PyValue>[] = [];
    for (const o of this.requestOutputs ?? []) {
      const d: Record<string, PyValue> = { name: o.name };
      if (truthy(o.parameters)) d.parameters = { ...o.parameters! };
      requestedOutputs.push(d);
    }
    const res: Record<string, PyValue> = { id: truthy(this.id) ? this.id! : randomUUID(), model_name: this.modelName, inputs: inferInputs };
    if (requestedOutputs.length > 0) res.outputs = requestedOutputs;
    if (truthy(this.parameters)) res.parameters = { ...this.parameters! };
    if (rawInputs.length !== 0) {
      const jsonBytes = Buffer.from(dumps(res, { ensureAscii: false }), 'utf8'); // orjson.dumps → bytes
      return { json: res, body: Buffer.concat([jsonBytes, ...rawInputs]), jsonLength: jsonBytes.length };
    }
    return { json: res, body: undefined, jsonLength: undefined };
  }
}

/** kserve.protocol.infer_type.InferOutput (as from_bytes builds it) */
export class KInferOutput {
  constructor(
    readonly name: string,
    readonly shape: number[],
    readonly datatype: Datatype,
    readonly data: JsonValue[],
    readonly parameters: Record<string, JsonValue> | undefined,
  ) {}

  /** np.array(self._data, dtype=to_np_dtype(datatype)).reshape(self._shape) */
  asNumpy(): NdArray {
    return reshape(fromList(this.data, this.datatype), this.shape);
  }
}

/** kserve.protocol.infer_type.InferResponse.from_bytes */
export class KInferResponse {
  constructor(
    readonly id: JsonValue | undefined,
    readonly modelName: string,
    readonly outputs: KInferOutput[],
    readonly parameters: JsonValue | undefined,
  ) {}

  static fromBytes(resBytes: Uint8Array, jsonLength: number): KInferResponse {
    const dict = loads(resBytes.subarray(0, jsonLength)) as Record<string, JsonValue>;
    const key = <T extends JsonValue>(o: Record<string, JsonValue>, k: string): T => {
      if (!(k in o)) throw new Error(`KeyError: '${k}'`);
      return o[k] as T;
    };
    const modelName = key<string>(dict, 'model_name');
    const outputs: KInferOutput[] = [];
    let startIndex = jsonLength;
    for (const output of key<Record<string, JsonValue>[]>(dict, 'outputs')) {
      const parameters = (output.parameters ?? undefined) as Record<string, JsonValue> | undefined;
      const name = key<string>(output, 'name');
      const shape = key<number[]>(output, 'shape');
      const datatype = key<string>(output, 'datatype').toUpperCase() as Datatype;
      let data: JsonValue[];
      if (truthy(parameters) && 'binary_data_size' in parameters!) {
        const end = startIndex + Number(parameters.binary_data_size);
        const raw = resBytes.subarray(startIndex, end);
        // as_numpy() of the raw data, then set_data_from_numpy(..., binary_data=False)
        const arr = reshape(datatype === 'BYTES' ? deserializeBytesTensor(raw) : frombuffer(raw, datatype), shape);
        data =
          datatype === 'BYTES'
            ? (arr.values as Uint8Array[]).map((b) => new TextDecoder('utf-8', { fatal: true }).decode(b))
            : items(arr).map((v) => (typeof v === 'object' && v !== null && 'value' in v ? v.value : v) as JsonValue);
        startIndex = end;
      } else {
        const d = output.data;
        if (d === undefined || d === null) throw new Error(`'data' field is missing for output '${name}' for model '${modelName}'`);
        data = d as JsonValue[];
      }
      outputs.push(new KInferOutput(name, shape, datatype, data, parameters));
    }
    return new KInferResponse(dict.id ?? undefined, modelName, outputs, dict.parameters ?? undefined);
  }
}

/** kserve.InferenceRESTClient(RESTConfig(protocol="v2")) */
export class InferenceRESTClient {
  lastRequest: Buffer | undefined;
  /** What to_rest produced for the last infer (before serialisation). */
  lastJson: Record<string, PyValue> | undefined;

  private async send(method: 'GET' | 'POST', url: string, body: Uint8Array | undefined, headers: Record<string, string>): Promise<HttpxResponse> {
    const u = new URL(url);
    // httpx: Host first, then the client's default headers, then the call's headers, then the
    // content headers encode_content added (Content-Length only).
    const fields: [string, string][] = [
      ['Host', u.host],
      ['Accept', '*/*'],
      ['Accept-Encoding', 'gzip, deflate'],
      ['Connection', 'keep-alive'],
      ['User-Agent', HTTPX_USER_AGENT],
    ];
    for (const [k, v] of Object.entries(headers)) fields.push([k, v]);
    if (method === 'POST') fields.push(['Content-Length', String(body?.length ?? 0)]);
    const request = buildRequest(method, u.pathname + u.search, fields, body);
    this.lastRequest = request;
    return toHttpx(await exchange(Number(u.port), request, method), url);
  }

  private constructUrl(baseUrl: string, relative: string): string {
    const base = new URL(baseUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error("Base url should have 'http://' or 'https://' protocol");
    if (!base.pathname.endsWith('/') && !relative.startsWith('/')) relative = '/' + relative;
    return new URL(base.pathname + relative, base).toString();
  }

  /** _construct_http_status_error */
  private statusError(response: HttpxResponse): HTTPStatusError {
    let errorMessage: JsonValue = '';
    if (response.headers('content-type') !== undefined && response.headers('content-type') === 'application/json') {
      const body = response.json();
      errorMessage = body;
      if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'error' in body) errorMessage = body.error!;
    }
    const text = typeof errorMessage === 'string' ? errorMessage : JSON.stringify(errorMessage);
    return new HTTPStatusError(`${text}, '${response.statusCode} ${response.reasonPhrase}' for url '${response.url}'`, response);
  }

  async infer(baseUrl: string, data: KInferRequest, modelName: string, headers?: Record<string, string>): Promise<KInferResponse> {
    const url = this.constructUrl(baseUrl, `v2/models/${modelName}/infer`);
    const rest = data.toRest();
    this.lastJson = rest.json;
    const h: Record<string, string> = { ...headers };
    let body: Uint8Array;
    if (rest.jsonLength !== undefined) {
      h[INFERENCE_CONTENT_LENGTH_HEADER] = String(rest.jsonLength);
      h['content-type'] = 'application/octet-stream';
      body = rest.body!;
    } else {
      body = Buffer.from(dumps(rest.json, { ensureAscii: false }), 'utf8'); // orjson.dumps(data)
    }
    const response = await this.send('POST', url, body, h);
    if (!response.isSuccess) throw this.statusError(response);
    const jsonLength = response.headers(INFERENCE_CONTENT_LENGTH_HEADER) ?? String(response.content.length);
    return KInferResponse.fromBytes(response.content, parseInt(jsonLength, 10));
  }

  async isServerReady(baseUrl: string): Promise<JsonValue | undefined> {
    const response = await this.send('GET', this.constructUrl(baseUrl, 'v2/health/ready'), undefined, {});
    if (!response.isSuccess) throw this.statusError(response);
    return (response.json() as Record<string, JsonValue>).ready;
  }

  async isServerLive(baseUrl: string): Promise<JsonValue | undefined> {
    const response = await this.send('GET', this.constructUrl(baseUrl, 'v2/health/live'), undefined, {});
    if (!response.isSuccess) throw this.statusError(response);
    return (response.json() as Record<string, JsonValue>).live;
  }

  async isModelReady(baseUrl: string, modelName: string): Promise<boolean> {
    const response = await this.send('GET', this.constructUrl(baseUrl, `v2/models/${modelName}/ready`), undefined, {});
    return response.isSuccess;
  }
}
