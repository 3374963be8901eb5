// The hard limits on one inference request and its answer, checked at the serving core's door
// for every entry (HTTP, gRPC, embedding): elements per tensor and per request (the decoders
// check the same limits from the shape before allocating; this catches requests built in code),
// the length of each BYTES element, reserved parameter names, and the size of the answer.
// Pure: no clock, no I/O. Table-tested in inference-limits.test.ts.
import { countTensorElements, SibylError, type InferRequest, type Parameters, type Tensor } from '@sibyl/protocol';

/** The limits, resolved (limits.* in the server configuration). */
export interface InferenceLimits {
  readonly maxTensorElements: number;
  readonly maxRequestElements: number;
  readonly maxBytesElementBytes: number;
  readonly maxResponseBytes: number;
}

/**
 * Prefix of the parameter names the server writes into answers (`sibyl_endpoint`,
 * `sibyl_variant`, `sibyl_cache`, `sibyl_fallback`, …). A request may not carry them: a client
 * could otherwise make an answer look like it came from a variant, a cache or a fallback that it
 * did not, to whatever reads those parameters downstream (the prediction log, a proxy).
 */
export const RESERVED_PARAMETER_PREFIX = 'sibyl_';

/**
 * Refuses a request over the limits. @throws SibylError REQUEST_LIMIT_EXCEEDED (elements, BYTES
 * element length), PARAMETER_INVALID (a reserved parameter name).
 */
export function checkInferRequest(request: InferRequest, limits: InferenceLimits): void {
  reservedParameter(request.parameters, 'parameters');
  let elements = 0;
  const inputs = request.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    elements = countTensorElements(elements, t.shape, `input '${t.name}'`, limits);
    if (t.parameters !== undefined) reservedParameter(t.parameters, `inputs[${i}].parameters`);
    if (t.datatype === 'BYTES') longestBytesElement(t, limits.maxBytesElementBytes);
  }
  const outputs = request.outputs;
  if (outputs !== undefined) for (let i = 0; i < outputs.length; i++) reservedParameter(outputs[i]!.parameters, `outputs[${i}].parameters`);
}

/**
 * Refuses an answer larger than maxResponseBytes (the bytes of its outputs' data, BYTES elements
 * by their length plus the 4-byte length the binary extension gives each).
 * @throws SibylError RESPONSE_TOO_LARGE.
 */
/** The outputs of one answer of `model` within limits.maxResponseBytes. @throws SibylError RESPONSE_TOO_LARGE. */
export function checkResponseBytes(model: string, outputs: readonly Tensor[], limits: InferenceLimits): void {
  let bytes = 0;
  for (const t of outputs) bytes += dataBytes(t);
  if (bytes > limits.maxResponseBytes) {
    throw new SibylError(
      'RESPONSE_TOO_LARGE',
      `the answer of model '${model}' has ${bytes} bytes of output data; at most ${limits.maxResponseBytes} are sent (limits.maxResponseBytes); send fewer rows per request, or ask for fewer outputs`,
      { details: { limit: limits.maxResponseBytes, count: bytes, name: 'limits.maxResponseBytes' } },
    );
  }
}

function dataBytes(t: Tensor): number {
  const data = t.data;
  if (!Array.isArray(data)) return (data as ArrayBufferView).byteLength;
  let n = 0;
  for (let i = 0; i < data.length; i++) n += 4 + (data[i] as Uint8Array).length;
  return n;
}

function longestBytesElement(t: Tensor, limit: number): void {
  const data = t.data as readonly Uint8Array[];
  for (let i = 0; i < data.length; i++) {
    if (data[i]!.length > limit) {
      throw new SibylError(
        'REQUEST_LIMIT_EXCEEDED',
        `input '${t.name}' element ${i} has ${data[i]!.length} bytes; a BYTES element may have at most ${limit} (limits.maxBytesElementBytes)`,
        { details: { limit, count: data[i]!.length, name: 'limits.maxBytesElementBytes' } },
      );
    }
  }
}

function reservedParameter(parameters: Parameters | undefined, where: string): void {
  if (parameters === undefined) return;
  for (const key in parameters) {
    if (key.startsWith(RESERVED_PARAMETER_PREFIX)) {
      throw new SibylError(
        'PARAMETER_INVALID',
        `${where}.${key.length > 80 ? `${key.slice(0, 80)}…` : key} is reserved: parameters named ${RESERVED_PARAMETER_PREFIX}* are written by the server into its answers and may not be sent`,
      );
    }
  }
}
