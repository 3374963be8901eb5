// tritonclient.http (Python), re-implemented line by line from its source so its HTTP traffic
// can be replayed against Sibyl without PyPI. Sources read (GitHub, via the stored index):
//
//   triton-inference-server/client
//     src/python/library/tritonclient/http/_client.py        @ 06344caed307d019c2a38ae3bf3677572e77903d
//       InferenceServerClient.__init__: base_uri = URL("http://" + url).request_uri.rstrip("/"),
//         so "host:port" gives request URIs "/v2/...".
//       _get/_post: geventhttpclient .get(uri[, headers]) / .post(uri, body, headers); only the
//         headers the call adds (no Content-Type is ever set by tritonclient).
//       is_server_live / is_server_ready / is_model_ready: GET, `return response.status_code == 200`
//         (no body read, no exception on 4xx/5xx).
//       get_server_metadata / get_model_metadata: GET, _raise_if_error(response), json.loads(body).
//       get_model_repository_index: POST "v2/repository/index" with request_body="".
//       infer(): body, json_size = _get_inference_request(...);
//         request_compression_algorithm "gzip" → headers["Content-Encoding"]="gzip", body=gzip.compress(body);
//         "deflate" → headers["Content-Encoding"]="deflate", body=zlib.compress(body);
//         response_compression_algorithm "gzip"/"deflate" → headers["Accept-Encoding"]=...;
//         if json_size is not None: headers["Inference-Header-Content-Length"] = json_size
//           (the UNCOMPRESSED JSON length: it is computed before compression);
//         POST "v2/models/{quote(name)}[/versions/{v}]/infer"; _raise_if_error; InferResult(response).
//     src/python/library/tritonclient/http/_utils.py          @ 03a0aac91cf71c322365627be68a5596165d9aab
//       _get_error: if status_code != 200: body = read().decode("utf-8");
//         error_response = json.loads(body) if len(body) else {"error": "client received an empty response from the server."};
//         InferenceServerException(msg=error_response["error"], status=str(status_code));
//         anything failing there → msg "an exception occurred in the client while decoding the response: ...".
//       _get_inference_request: infer_request = {} then "id" (if request_id != ""), "inputs"
//         ([i._get_tensor()]), "outputs" (if outputs) else parameters["binary_data_output"] = True,
//         "parameters" (if any); request_json = json.dumps(infer_request) (rapidjson);
//         json_size = len(request_json); body = request_json.encode() + every input's raw data;
//         returns (body, None) when no input is binary, else (b"".join(...), json_size).
//     src/python/library/tritonclient/http/_infer_input.py    @ 06344caed307d019c2a38ae3bf3677572e77903d
//       set_data_from_numpy(t, binary_data=True): binary → _raw_data = t.tobytes() (BYTES:
//         serialize_byte_tensor), parameters["binary_data_size"] = len(raw); JSON → _data =
//         [val.item() for val in t.flatten()] (BYTES: str(obj, "utf-8")), binary_data_size popped.
//       _get_tensor: {"name", "shape", "datatype"} + "parameters" if non-empty + "data" if not binary.
//     src/python/library/tritonclient/http/_requested_output.py @ 36d6b34e7687e2c5ecc44263f7725f219d36d43b
//       InferRequestedOutput(name, binary_data=True, class_count=0): parameters
//         {"classification": class_count} if class_count != 0, then {"binary_data": binary_data}
//         ALWAYS (also when False); _get_tensor → {"name", "parameters"}.
//     src/python/library/tritonclient/http/_infer_result.py   @ 2a25fb3b587d99791afdf0cb765b61d6bca72728
//       InferResult: header_length = response.get("Inference-Header-Content-Length");
//         Content-Encoding gzip → gzip.decompress, deflate → zlib.decompress;
//         no header → json.loads(whole body); header → json.loads(first header_length bytes),
//         buffer = rest; for each output with parameters.binary_data_size: map name → offset
//         (offsets accumulate in output order).
//       as_numpy(name): binary → np.frombuffer(buffer[start:end], dtype) (BYTES:
//         deserialize_bytes_tensor), size 0 → np.empty; JSON → np.array(output["data"], dtype);
//         then .reshape(output["shape"]).
//     src/python/library/tritonclient/utils/__init__.py         @ 01581baf6bc34223016fa1b396399231a7e888cc
//       triton_to_np_dtype, serialize_byte_tensor, deserialize_bytes_tensor,
//       InferenceServerException.__str__ = "[" + status + "] " + msg.
//
//   geventhttpclient/geventhttpclient (the transport)
//     src/geventhttpclient/client.py @ 02f7ad10efda08cac7674830308ed92762349605
//       DEFAULT_HEADERS = {"User-Agent": "python/gevent-http-client-" + __version__};
//       _build_request: header_fields = default headers, then the call's headers, then "Host"
//         (host + ":" + port unless 80/443), then "Content-Length" = len(body) when the body is
//         non-empty, "0" for an empty POST; none for GET. No Content-Type, no Accept,
//         no Accept-Encoding unless the caller sets it; HTTP/1.1, keep-alive by default.
//     src/geventhttpclient/response.py @ 04b755f32eef72b41b84f1f5d670b6a0d6b5cfb5 and header.py
//       @ 0d87186d4e12972f17aadccd11c171ea0f0ae47c: response.get(name) is case-insensitive; the
//       body is NOT decompressed by the transport (InferResult does it).
import { gunzipSync, gzipSync, inflateSync, deflateSync } from 'node:zlib';
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

export const GEVENT_USER_AGENT = 'python/gevent-http-client-2.3.1';

export class InferenceServerException extends Error {
  constructor(
    readonly msg: string,
    readonly status?: string,
    readonly debugDetails?: string,
  ) {
    super(status === undefined ? msg : `[${status}] ${msg}`);
  }
}

/** tritonclient.http._infer_input.InferInput */
export class InferInput {
  parameters: Record<string, PyValue> = {};
  private data: PyValue[] | undefined;
  private rawData: Uint8Array | undefined;

  constructor(
    readonly name: string,
    readonly shape: number[],
    readonly datatype: Datatype,
  ) {}

  setDataFromNumpy(t: NdArray, binaryData = true): this {
    if (t.dtype !== this.datatype) throw new InferenceServerException(`got unexpected datatype ${t.dtype} from numpy array, expected ${this.datatype}`);
    if (t.shape.length !== this.shape.length || t.shape.some((d, i) => d !== this.shape[i])) {
      throw new InferenceServerException(`got unexpected numpy array shape [${t.shape.join(', ')}], expected [${this.shape.join(', ')}]`);
    }
    delete this.parameters.shared_memory_region;
    delete this.parameters.shared_memory_byte_size;
    delete this.parameters.shared_memory_offset;
    if (!binaryData) {
      delete this.parameters.binary_data_size;
      this.rawData = undefined;
      if (this.datatype === 'BYTES') {
        const dec = new TextDecoder('utf-8', { fatal: true });
        this.data = (t.values as readonly (Uint8Array | string)[]).map((v) => (typeof v === 'string' ? v : dec.decode(v)));
      } else {
        this.data = items(t);
      }
    } else {
      this.data = undefined;
      this.rawData = this.datatype === 'BYTES' ? serializeByteTensor(t) : tobytes(t);
      this.parameters.binary_data_size = this.rawData.length;
    }
    return this;
  }

  getBinaryData(): Uint8Array | undefined {
    return this.rawData;
  }

  getTensor(): Record<string, PyValue> {
    const tensor: Record<string, PyValue> = { name: this.name, shape: this.shape, datatype: this.datatype };
    if (Object.keys(this.parameters).length > 0) tensor.parameters = this.parameters;
    if (this.parameters.shared_memory_region === undefined && this.rawData === undefined && this.data !== undefined) tensor.data = this.data;
    return tensor;
  }
}

/** tritonclient.http._requested_output.InferRequestedOutput */
export class InferRequestedOutput {
  readonly parameters: Record<string, PyValue> = {};
  constructor(
    readonly name: string,
    binaryData = true,
    classCount = 0,
  ) {
    if (classCount !== 0) this.parameters.classification = classCount;
    this.parameters.binary_data = binaryData;
  }

  getTensor(): Record<string, PyValue> {
    const tensor: Record<string, PyValue> = { name: this.name };
    if (Object.keys(this.parameters).length > 0) tensor.parameters = this.parameters;
    return tensor;
  }
}

export interface InferOptions {
  modelVersion?: string;
  outputs?: InferRequestedOutput[];
  requestId?: string;
  sequenceId?: number | string;
  sequenceStart?: boolean;
  sequenceEnd?: boolean;
  priority?: number;
  timeout?: number;
  headers?: Record<string, string>;
  requestCompressionAlgorithm?: 'gzip' | 'deflate';
  responseCompressionAlgorithm?: 'gzip' | 'deflate';
  parameters?: Record<string, PyValue>;
}

/** tritonclient.http._utils._get_inference_request → [body, json_size or undefined]; also the JSON text. */
export function getInferenceRequest(inputs: InferInput[], options: InferOptions = {}): { body: Uint8Array; jsonSize: number | undefined; json: string } {
  const inferRequest: Record<string, PyValue> = {};
  const parameters: Record<string, PyValue> = {};
  if ((options.requestId ?? '') !== '') inferRequest.id = options.requestId!;
  const sequenceId = options.sequenceId ?? 0;
  if (sequenceId !== 0 && sequenceId !== '') {
    parameters.sequence_id = sequenceId;
    parameters.sequence_start = options.sequenceStart ?? false;
    parameters.sequence_end = options.sequenceEnd ?? false;
  }
  if ((options.priority ?? 0) !== 0) parameters.priority = options.priority!;
  if (options.timeout !== undefined) parameters.timeout = options.timeout;
  inferRequest.inputs = inputs.map((i) => i.getTensor());
  if (options.outputs !== undefined && options.outputs.length > 0) inferRequest.outputs = options.outputs.map((o) => o.getTensor());
  // "no outputs specified so set 'binary_data_output' True in the request so that all outputs
  // are returned in binary format"
  else parameters.binary_data_output = true;
  for (const [key, value] of Object.entries(options.parameters ?? {})) {
    if (['sequence_id', 'sequence_start', 'sequence_end', 'priority', 'binary_data_output'].includes(key)) {
      throw new InferenceServerException(`Parameter "${key}" is a reserved parameter and cannot be specified.`);
    }
    parameters[key] = value;
  }
  if (Object.keys(parameters).length > 0) inferRequest.parameters = parameters;

  const requestJson = dumps(inferRequest, { ensureAscii: true }); // rapidjson.dumps
  // json_size = len(request_json): characters; equal to bytes because ensure_ascii escapes the rest.
  if ([...requestJson].some((ch) => ch.charCodeAt(0) > 0x7f)) throw new Error('rapidjson with ensure_ascii writes ASCII only');
  const jsonSize = requestJson.length;
  const body: Uint8Array[] = [Buffer.from(requestJson, 'utf8')];
  for (const input of inputs) {
    const raw = input.getBinaryData();
    if (raw !== undefined) body.push(raw);
  }
  if (body.length === 1) return { body: body[0]!, jsonSize: undefined, json: requestJson };
  return { body: Buffer.concat(body), jsonSize, json: requestJson };
}

/** _utils._get_error / _raise_if_error */
export function raiseIfError(response: WireResponse): void {
  if (response.status === 200) return;
  let body: string | undefined;
  try {
    body = new TextDecoder('utf-8', { fatal: true }).decode(response.body);
    const errorResponse = (body.length > 0 ? loads(body) : { error: 'client received an empty response from the server.' }) as Record<string, JsonValue>;
    if (!('error' in errorResponse)) throw new Error("KeyError: 'error'");
    throw new InferenceServerException(errorResponse.error as string, String(response.status));
  } catch (e) {
    if (e instanceof InferenceServerException) throw e;
    throw new InferenceServerException(
      `an exception occurred in the client while decoding the response: ${(e as Error).message}\nresponse: ${body}`,
      String(response.status),
      body,
    );
  }
}

/** tritonclient.http._infer_result.InferResult */
export class InferResult {
  private readonly result: Record<string, JsonValue>;
  private readonly buffer: Uint8Array = new Uint8Array(0);
  private readonly outputNameToBufferMap = new Map<string, number>();
  /** Whether the response carried Inference-Header-Content-Length (binary extension). */
  readonly headerLength: number | undefined;

  constructor(response: WireResponse) {
    const headerLength = response.header('Inference-Header-Content-Length');
    let body: Uint8Array = response.body;
    const contentEncoding = response.header('Content-Encoding');
    if (contentEncoding === 'gzip') body = gunzipSync(body);
    else if (contentEncoding === 'deflate') body = inflateSync(body);
    if (headerLength === undefined) {
      this.headerLength = undefined;
      this.result = loads(body) as Record<string, JsonValue>;
    } else {
      const n = parseInt(headerLength, 10); // int(header_length)
      if (Number.isNaN(n)) throw new Error(`ValueError: invalid literal for int(): ${headerLength}`);
      this.headerLength = n;
      this.result = loads(body.subarray(0, n)) as Record<string, JsonValue>;
      this.buffer = body.subarray(n);
      let bufferIndex = 0;
      for (const output of this.result.outputs as Record<string, JsonValue>[]) {
        const parameters = output.parameters as Record<string, JsonValue> | undefined;
        if (parameters !== undefined && parameters !== null) {
          const thisDataSize = parameters.binary_data_size;
          if (thisDataSize !== undefined && thisDataSize !== null) {
            this.outputNameToBufferMap.set(output.name as string, bufferIndex);
            bufferIndex += Number(thisDataSize);
          }
        }
      }
    }
  }

  asNumpy(name: string): NdArray | null {
    const outputs = this.result.outputs as Record<string, JsonValue>[] | undefined;
    if (outputs === undefined || outputs === null) return null;
    for (const output of outputs) {
      if (output.name !== name) continue;
      const datatype = output.datatype as Datatype;
      let npArray: NdArray | undefined;
      let hasBinaryData = false;
      const parameters = output.parameters as Record<string, JsonValue> | undefined;
      if (parameters !== undefined && parameters !== null) {
        const thisDataSize = parameters.binary_data_size;
        if (thisDataSize !== undefined && thisDataSize !== null) {
          hasBinaryData = true;
          const n = Number(thisDataSize);
          if (n !== 0) {
            const start = this.outputNameToBufferMap.get(name)!;
            const slice = this.buffer.subarray(start, start + n);
            npArray = datatype === 'BYTES' ? deserializeBytesTensor(slice) : frombuffer(slice, datatype);
          } else {
            npArray = fromList([], datatype);
          }
        }
      }
      if (!hasBinaryData) npArray = fromList(output.data as JsonValue[], datatype);
      return reshape(npArray!, output.shape as JsonValue[]);
    }
    return null;
  }

  getOutput(name: string): Record<string, JsonValue> | null {
    for (const output of this.result.outputs as Record<string, JsonValue>[]) if (output.name === name) return output;
    return null;
  }

  getResponse(): Record<string, JsonValue> {
    return this.result;
  }
}

const quote = (s: string): string => encodeURIComponent(s).replace(/%2F/g, '/');

/** tritonclient.http.InferenceServerClient("127.0.0.1:port") */
export class InferenceServerClient {
  /** Raw bytes of the last request sent, for asserting the wire layout. */
  lastRequest: Buffer | undefined;
  private readonly host: string;
  private readonly port: number;
  private readonly baseUri: string;

  constructor(url: string) {
    if (url.startsWith('http://') || url.startsWith('https://')) throw new InferenceServerException('url should not include the scheme');
    const parsed = new URL('http://' + url);
    this.host = parsed.hostname;
    this.port = Number(parsed.port || 80);
    this.baseUri = parsed.pathname.replace(/\/+$/, ''); // request_uri.rstrip("/")
  }

  private async send(method: 'GET' | 'POST', requestUri: string, body: Uint8Array | undefined, headers: Record<string, string> | undefined): Promise<WireResponse> {
    const uri = this.baseUri + '/' + requestUri;
    // geventhttpclient _build_request: default headers, the call's headers, Host, Content-Length.
    const fields: [string, string][] = [['User-Agent', GEVENT_USER_AGENT]];
    for (const [k, v] of Object.entries(headers ?? {})) fields.push([k, v]);
    fields.push(['Host', this.port === 80 || this.port === 443 ? this.host : `${this.host}:${this.port}`]);
    if (body !== undefined && body.length > 0) fields.push(['Content-Length', String(body.length)]);
    else if (method === 'POST') fields.push(['Content-Length', '0']);
    const request = buildRequest(method, uri, fields, body);
    this.lastRequest = request;
    return exchange(this.port, request, method);
  }

  async isServerLive(): Promise<boolean> {
    return (await this.send('GET', 'v2/health/live', undefined, undefined)).status === 200;
  }

  async isServerReady(): Promise<boolean> {
    return (await this.send('GET', 'v2/health/ready', undefined, undefined)).status === 200;
  }

  async isModelReady(modelName: string, modelVersion = ''): Promise<boolean> {
    const uri = modelVersion !== '' ? `v2/models/${quote(modelName)}/versions/${modelVersion}/ready` : `v2/models/${quote(modelName)}/ready`;
    return (await this.send('GET', uri, undefined, undefined)).status === 200;
  }

  async getServerMetadata(): Promise<Record<string, JsonValue>> {
    const response = await this.send('GET', 'v2', undefined, undefined);
    raiseIfError(response);
    return loads(response.body) as Record<string, JsonValue>;
  }

  async getModelMetadata(modelName: string, modelVersion = ''): Promise<Record<string, JsonValue>> {
    const uri = modelVersion !== '' ? `v2/models/${quote(modelName)}/versions/${modelVersion}` : `v2/models/${quote(modelName)}`;
    const response = await this.send('GET', uri, undefined, undefined);
    raiseIfError(response);
    return loads(response.body) as Record<string, JsonValue>;
  }

  async getModelRepositoryIndex(): Promise<JsonValue> {
    const response = await this.send('POST', 'v2/repository/index', new Uint8Array(0), undefined);
    raiseIfError(response);
    return loads(response.body);
  }

  async infer(modelName: string, inputs: InferInput[], options: InferOptions = {}): Promise<InferResult> {
    const built = getInferenceRequest(inputs, options);
    let requestBody = built.body;
    let headers: Record<string, string> | undefined = options.headers === undefined ? undefined : { ...options.headers };
    if (options.requestCompressionAlgorithm === 'gzip') {
      headers ??= {};
      headers['Content-Encoding'] = 'gzip';
      requestBody = gzipSync(requestBody);
    } else if (options.requestCompressionAlgorithm === 'deflate') {
      headers ??= {};
      headers['Content-Encoding'] = 'deflate';
      requestBody = deflateSync(requestBody); // zlib.compress: zlib container, as HTTP "deflate" means
    }
    if (options.responseCompressionAlgorithm !== undefined) {
      headers ??= {};
      headers['Accept-Encoding'] = options.responseCompressionAlgorithm;
    }
    if (built.jsonSize !== undefined) {
      headers ??= {};
      headers['Inference-Header-Content-Length'] = String(built.jsonSize);
    }
    const modelVersion = options.modelVersion ?? '';
    const uri = modelVersion !== '' ? `v2/models/${quote(modelName)}/versions/${modelVersion}/infer` : `v2/models/${quote(modelName)}/infer`;
    const response = await this.send('POST', uri, requestBody, headers);
    raiseIfError(response);
    return new InferResult(response);
  }
}
