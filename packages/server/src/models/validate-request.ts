// Checks a decoded inference request against the signature of the version that will run it.
// Every message says what was wrong and what the model expects.
import { isUtf8 } from 'node:buffer';
import { SibylError, elementCount, type BytesElements, type InferRequest, type TensorMetadata } from '@sibyl/protocol';
import type { ServedSignature } from './signature.ts';

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
const describe = (t: TensorMetadata): string => `'${t.name}' (${t.datatype} ${shapeText(t.shape)})`;

export interface ValidatedRequest {
  /** Outputs to compute, in response order. */
  outputNames: string[];
  /** Rows the request carries (1 when the model does not batch). */
  batchSize: number;
}

/** @throws SibylError INVALID_ARGUMENT with a reason naming the problem. */
export function validateInferRequest(request: InferRequest, signature: ServedSignature, model: string): ValidatedRequest {
  const seen = new Set<string>();
  let batchSize: number | undefined;
  for (const input of request.inputs) {
    if (seen.has(input.name)) throw new SibylError('INPUT_DUPLICATE', `input '${input.name}' appears more than once in the request`);
    seen.add(input.name);
    const expected = signature.inputs.find((t) => t.name === input.name);
    if (expected === undefined) {
      throw new SibylError(
        'INPUT_UNKNOWN',
        `model '${model}' has no input '${input.name}'; its inputs are ${signature.inputs.map(describe).join(', ')}`,
      );
    }
    if (input.datatype !== expected.datatype) {
      throw new SibylError('INPUT_DATATYPE_MISMATCH', `input '${input.name}' has datatype ${input.datatype}; model '${model}' expects ${expected.datatype}`);
    }
    const fits = input.shape.length === expected.shape.length && input.shape.every((d, k) => expected.shape[k] === -1 || d === expected.shape[k]);
    if (!fits) {
      throw new SibylError(
        'INPUT_SHAPE_MISMATCH',
        `input '${input.name}' has shape ${shapeText(input.shape)}; model '${model}' expects ${shapeText(expected.shape)} (-1: any size)`,
      );
    }
    const count = elementCount(input.shape);
    if (input.data.length !== count) {
      throw new SibylError('INPUT_DATA_MISMATCH', `input '${input.name}' has shape ${shapeText(input.shape)}, which holds ${count} elements, but data has ${input.data.length}`);
    }
    if (signature.bytesAsText === true && input.datatype === 'BYTES') checkText(input.name, input.data as BytesElements, model);
    if (signature.maxBatchSize > 0) {
      const rows = input.shape[0]!;
      if (rows < 1) throw new SibylError('INPUT_SHAPE_MISMATCH', `input '${input.name}' has batch size ${rows}; the batch dimension must be at least 1`);
      if (batchSize !== undefined && rows !== batchSize) {
        throw new SibylError('INPUT_BATCH_MISMATCH', `inputs disagree on the batch size: '${input.name}' has ${rows} rows, an earlier input has ${batchSize}`);
      }
      batchSize = rows;
    }
  }
  const missing = signature.inputs.filter((t) => !seen.has(t.name));
  if (missing.length > 0) {
    throw new SibylError('INPUT_MISSING', `model '${model}' needs input${missing.length > 1 ? 's' : ''} ${missing.map(describe).join(', ')}, missing from the request`);
  }
  let outputNames: string[];
  if (request.outputs === undefined || request.outputs.length === 0) {
    outputNames = signature.outputs.map((t) => t.name);
  } else {
    outputNames = [];
    for (const requested of request.outputs) {
      if (!signature.outputs.some((t) => t.name === requested.name)) {
        throw new SibylError(
          'OUTPUT_UNKNOWN',
          `model '${model}' has no output '${requested.name}'; its outputs are ${signature.outputs.map((t) => `'${t.name}'`).join(', ')}`,
        );
      }
      if (outputNames.includes(requested.name)) throw new SibylError('MALFORMED_REQUEST', `output '${requested.name}' is requested more than once`);
      outputNames.push(requested.name);
    }
  }
  return { outputNames, batchSize: batchSize ?? 1 };
}

/**
 * Refuses a BYTES element that is not UTF-8, or that holds a NUL byte, for a runtime that carries
 * BYTES as text: invalid sequences would reach the model replaced by U+FFFD, and onnxruntime
 * passes strings to the model as C strings, so everything from the first NUL on would be dropped
 * ("a\0b" reached the model as "a") — silent changes of the input either way.
 */
function checkText(name: string, elements: BytesElements, model: string): void {
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i]!;
    if (!isUtf8(element)) {
      throw new SibylError(
        'INPUT_DATA_MISMATCH',
        `input '${name}' (BYTES) element ${i} is not valid UTF-8; model '${model}' takes BYTES as text (its runtime carries them as UTF-8 strings), and other bytes would reach it altered`,
      );
    }
    const nul = element.indexOf(0);
    if (nul !== -1) {
      throw new SibylError(
        'INPUT_DATA_MISMATCH',
        `input '${name}' (BYTES) element ${i} holds a NUL byte (0x00) at byte ${nul}; model '${model}' takes BYTES as text without NUL (its runtime carries them as C strings, which end at the first NUL), and the rest of the element would be dropped`,
      );
    }
  }
}
