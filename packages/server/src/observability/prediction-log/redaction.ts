// Field rules of the prediction log: keep, drop or hash each input and output by name. Applied
// on the event loop when a sampled request is captured, so a clear value of a redacted field is
// never held by the logger, queued, written to a sink or logged.
import { createHmac } from 'node:crypto';
import { fromBFloat16Bits, fromFloat16Bits, type Tensor } from '@sibyl/protocol';
import type { FieldRule, ModelPredictionLogConfig } from '../../config/prediction-log-config.ts';
import type { LoggedTensor } from './record.ts';

const utf8 = new TextDecoder('utf-8');

/** The elements of a tensor as JSON-ready values (64-bit integers and BYTES as strings). */
export function jsonElements(tensor: Tensor): (number | string | boolean)[] {
  const data = tensor.data;
  if (Array.isArray(data)) return data.map((bytes) => utf8.decode(bytes));
  switch (tensor.datatype) {
    case 'BOOL':
      return Array.from(data as Uint8Array, (v) => v !== 0);
    case 'INT64':
    case 'UINT64':
      return Array.from(data as BigInt64Array, (v) => v.toString());
    case 'FP16':
      return Array.from(data as Uint16Array, fromFloat16Bits);
    case 'BF16':
      return Array.from(data as Uint16Array, fromBFloat16Bits);
    default:
      return Array.from(data as Float32Array);
  }
}

export class Redactor {
  constructor(
    private readonly config: ModelPredictionLogConfig,
    private readonly hashKey: Buffer,
  ) {}

  /** Share of requests to record, 0 to 1. */
  get sampleRate(): number {
    return this.config.sampleRate;
  }

  ruleOf(name: string): FieldRule {
    return Object.hasOwn(this.config.fields, name) ? this.config.fields[name]! : this.config.defaultRule;
  }

  /** A copy of the tensor as the log may hold it. */
  apply(tensor: Tensor): LoggedTensor {
    const rule = this.ruleOf(tensor.name);
    const base = { name: tensor.name, datatype: tensor.datatype, shape: [...tensor.shape] };
    if (rule === 'drop') return { ...base, redaction: 'dropped' };
    const elements = jsonElements(tensor);
    if (rule === 'keep') return { ...base, data: elements };
    return { ...base, data: elements.map((v) => this.hash(typeof v === 'string' ? v : JSON.stringify(v))), redaction: 'hashed' };
  }

  private hash(text: string): string {
    return createHmac('sha256', this.hashKey).update(text, 'utf8').digest('hex');
  }
}
