// Bounds on the structure of one inference request, the same for every wire format (V2 REST
// JSON, the binary tensor data extension, gRPC, TF Serving's REST). The body and message size
// limits bound the bytes; these bound the work per byte, so that a request of a few megabytes
// cannot make the decoder (or the checks after it) do millions of steps before it is refused.
// Each is far above what any model's signature needs: a request naming more inputs than its
// model has is refused anyway, just later and after decoding them all. Runs in Node and browsers.
import { SibylError } from './errors.ts';

export const REQUEST_LIMITS = Object.freeze({
  /**
   * Input tensors in one request. Wide tabular exports with one input per column (skl2onnx from a
   * DataFrame, TF feature columns) reach the low thousands; typical models have 1–10.
   */
  maxInputs: 4096,
  /** Requested outputs in one request (the same reasoning as inputs). */
  maxOutputs: 4096,
  /** Keys of one parameters object (the request's, or one tensor's). Triton's and KServe's use a handful. */
  maxParameters: 256,
  /** Dimensions of one tensor's shape: NumPy 2's limit (NPY_MAXDIMS); TensorFlow allows 254, models use < 10. */
  maxDims: 64,
  /**
   * BYTES elements in one request, over all its inputs. Each element becomes its own array, which
   * costs ~1–4 µs and ~100–200 bytes however short it is: a 64 MB body of empty strings would
   * hold 21 million of them (over a minute of event loop and gigabytes of heap). Real BYTES
   * inputs (a batch of texts or images, token strings of 64 × 1024) stay within 65,536.
   */
  maxBytesElements: 65_536,
  /**
   * INT64/UINT64 elements sent as gRPC typed contents (int64_contents, uint64_contents), in all.
   * The protobuf decoder makes each a decimal string (~2 µs each here: 4 MB of them took 9 s);
   * 262,144 token ids (64 × 4096) still fit, and raw_input_contents carries any size cheaply.
   */
  maxTypedInt64Elements: 262_144,
  /**
   * Elements of one input tensor (the product of its shape), checked before its data is read or
   * any array allocated: 2^26, what the default 64 MiB body holds at one byte per element.
   * Servers may configure less (limits.maxTensorElements in Sibyl's sibyl.yaml).
   */
  maxTensorElements: 67_108_864,
  /** Elements of all input tensors of one request together (limits.maxRequestElements). */
  maxRequestElements: 67_108_864,
  /** Characters of a tensor's name (an ONNX name like `StatefulPartitionedCall/model/dense_3/BiasAdd:0` has ~50). */
  maxNameLength: 1024,
});

/**
 * Adds `count` BYTES elements of `label` to `total` (the elements of the request's tensors so
 * far) and returns the new total. @throws REQUEST_LIMIT_EXCEEDED past maxBytesElements, before
 * any of them is decoded.
 */
export function countBytesElements(total: number, count: number, label: string): number {
  const sum = total + count;
  if (sum > REQUEST_LIMITS.maxBytesElements) {
    throw limitExceeded('BYTES elements', sum, REQUEST_LIMITS.maxBytesElements, total === 0 ? label : `the request up to ${label}`);
  }
  return sum;
}

/** The element limits a decoder applies (REQUEST_LIMITS' unless the server configures lower ones). */
export interface ElementLimits {
  readonly maxTensorElements: number;
  readonly maxRequestElements: number;
}

/**
 * Adds the elements of a tensor of `shape` (`label`: `input 'x'`) to `total` (the request's so
 * far) and returns the new total. Pure arithmetic on the shape: call it before reading the data.
 * @throws REQUEST_LIMIT_EXCEEDED naming the limit and its value.
 */
export function countTensorElements(total: number, shape: readonly number[], label: string, limits: ElementLimits = REQUEST_LIMITS): number {
  let count = 1;
  for (let d = 0; d < shape.length; d++) count *= shape[d]!;
  if (count > limits.maxTensorElements) {
    throw new SibylError(
      'REQUEST_LIMIT_EXCEEDED',
      `${label} has shape [${shape.join(',')}], ${count} elements; at most ${limits.maxTensorElements} elements per tensor are accepted (limits.maxTensorElements); send fewer rows per request`,
      { details: { limit: limits.maxTensorElements, count, name: 'limits.maxTensorElements' } },
    );
  }
  const sum = total + count;
  if (sum > limits.maxRequestElements) {
    throw new SibylError(
      'REQUEST_LIMIT_EXCEEDED',
      `the request's inputs up to ${label} have ${sum} elements; at most ${limits.maxRequestElements} elements per request are accepted (limits.maxRequestElements); send fewer rows per request`,
      { details: { limit: limits.maxRequestElements, count: sum, name: 'limits.maxRequestElements' } },
    );
  }
  return sum;
}

/**
 * The error for a request over one of REQUEST_LIMITS: names the limit, the count (or "more than
 * the limit" when counting stopped there) and where.
 */
export function limitExceeded(what: string, count: number | undefined, limit: number, where: string): SibylError {
  return new SibylError(
    'REQUEST_LIMIT_EXCEEDED',
    `${where} has ${count ?? `more than ${limit}`} ${what}; at most ${limit} are accepted (a limit of the server's protocol decoder, far above what a model's signature needs)`,
    { details: count === undefined ? { limit } : { limit, count } },
  );
}
