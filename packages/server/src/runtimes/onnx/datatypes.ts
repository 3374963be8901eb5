// onnxruntime tensor type names ⇄ Open Inference Protocol datatypes.
import type { Datatype } from '@sibyl/protocol';

const FROM_ORT: Readonly<Record<string, Datatype>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

const TO_ORT: Readonly<Partial<Record<Datatype, string>>> = Object.fromEntries(Object.entries(FROM_ORT).map(([ort, dt]) => [dt, ort]));

/** The protocol datatype of an onnxruntime type, or undefined when it has none (bfloat16, …). */
export function datatypeOfOrtType(type: string): Datatype | undefined {
  return FROM_ORT[type];
}

/** The onnxruntime type of a datatype, or undefined when onnxruntime-node cannot take it (BF16). */
export function ortTypeOf(datatype: Datatype): string | undefined {
  return TO_ORT[datatype];
}
