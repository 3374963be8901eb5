// Triton's classification extension: an output requested with parameter `classification: k`
// comes back as the top k classes per row, as BYTES strings "value:index".
import { SibylError, type Tensor, type TensorMetadata } from '@sibyl/protocol';

const encoder = new TextEncoder();

const CLASSIFIABLE = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64']);

/**
 * Checks a requested output's classification parameter before anything runs.
 * @returns the count of classes to return.
 * @throws SibylError CLASSIFICATION_INVALID when k is not a positive integer or the output is
 *   not numeric.
 */
export function checkClassification(output: TensorMetadata, k: unknown): number {
  const count = typeof k === 'bigint' ? Number(k) : k;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw new SibylError('CLASSIFICATION_INVALID', `output '${output.name}' has classification ${JSON.stringify(typeof k === 'bigint' ? String(k) : k)}; expected a positive integer (how many top classes to return)`);
  }
  if (!CLASSIFIABLE.has(output.datatype)) {
    throw new SibylError('CLASSIFICATION_INVALID', `output '${output.name}' is ${output.datatype}; classification needs an INT*, UINT*, FP32 or FP64 output`);
  }
  return count;
}

/** The top-k classes of each row of a numeric output (the last dimension holds the classes). */
export function classify(output: Tensor, count: number, batched: boolean): Tensor {
  const data = output.data as Exclude<Tensor['data'], Uint8Array[]>;
  const isFloat = output.datatype === 'FP32' || output.datatype === 'FP64';
  const classes = output.shape.at(-1) ?? 1;
  const rows = classes === 0 ? 0 : data.length / classes;
  const top = Math.min(count, classes);
  const elements: Uint8Array[] = [];
  for (let r = 0; r < rows; r++) {
    const order = Array.from({ length: classes }, (_, i) => i);
    const value = (i: number): number => Number(data[r * classes + i]!);
    order.sort((a, b) => value(b) - value(a) || a - b);
    for (let i = 0; i < top; i++) {
      const v = data[r * classes + order[i]!]!;
      elements.push(encoder.encode(`${isFloat ? (v as number).toFixed(6) : String(v)}:${order[i]}`));
    }
  }
  return { name: output.name, datatype: 'BYTES', shape: batched ? [rows, top] : [top], data: elements };
}
