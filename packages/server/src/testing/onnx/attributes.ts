// Node attributes for the model builder. An explicit `attr.*` value says which ONNX attribute
// type to write; plain values are read as: integer number or bigint → INT, integer number
// array (and []) → INTS, string → STRING, string array → STRINGS. Plain non-integer numbers are
// refused rather than guessed: use attr.float / attr.floats.

import { tensorProto } from './tensor-data.ts';
import type { TensorDatatype, TensorValues } from './tensor-data.ts';

/** An attribute value whose ONNX type is stated. */
export type TypedAttribute =
  | { readonly kind: 'FLOAT'; readonly value: number }
  | { readonly kind: 'INT'; readonly value: number | bigint }
  | { readonly kind: 'STRING'; readonly value: string | Uint8Array }
  | { readonly kind: 'FLOATS'; readonly value: readonly number[] }
  | { readonly kind: 'INTS'; readonly value: readonly (number | bigint)[] }
  | { readonly kind: 'STRINGS'; readonly value: readonly (string | Uint8Array)[] }
  | {
      readonly kind: 'TENSOR';
      readonly value: {
        readonly datatype: TensorDatatype;
        readonly dims: readonly number[];
        readonly values: TensorValues;
      };
    };

export type AttributeValue = TypedAttribute | number | bigint | string | readonly number[] | readonly string[];

/** Constructors of typed attribute values. */
export const attr = {
  float: (value: number): TypedAttribute => ({ kind: 'FLOAT', value }),
  int: (value: number | bigint): TypedAttribute => ({ kind: 'INT', value }),
  string: (value: string | Uint8Array): TypedAttribute => ({ kind: 'STRING', value }),
  floats: (value: readonly number[]): TypedAttribute => ({ kind: 'FLOATS', value }),
  ints: (value: readonly (number | bigint)[]): TypedAttribute => ({ kind: 'INTS', value }),
  strings: (value: readonly (string | Uint8Array)[]): TypedAttribute => ({ kind: 'STRINGS', value }),
  tensor: (datatype: TensorDatatype, dims: readonly number[], values: TensorValues): TypedAttribute => ({
    kind: 'TENSOR',
    value: { datatype, dims, values },
  }),
} as const;

// onnx.proto AttributeProto.AttributeType
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** A plain object shaped like onnx.AttributeProto, ready for protobufjs `encode`. */
export function attributeProto(name: string, value: AttributeValue): Record<string, unknown> {
  const typed = toTyped(name, value);
  const type = ATTRIBUTE_TYPE[typed.kind];
  switch (typed.kind) {
    case 'FLOAT':
      return { name, type, f: typed.value };
    case 'INT':
      return { name, type, i: int64(name, typed.value) };
    case 'STRING':
      return { name, type, s: bytes(typed.value) };
    case 'FLOATS':
      return { name, type, floats: [...typed.value] };
    case 'INTS':
      return { name, type, ints: typed.value.map((v) => int64(name, v)) };
    case 'STRINGS':
      return { name, type, strings: typed.value.map(bytes) };
    case 'TENSOR':
      return { name, type, t: tensorProto(`attribute ${name}`, '', typed.value) };
  }
}

function toTyped(name: string, value: AttributeValue): TypedAttribute {
  if (typeof value === 'string') return attr.string(value);
  if (typeof value === 'bigint') return attr.int(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      throw new TypeError(`attribute ${name}: ${value} is not an integer; use attr.float(${value})`);
    }
    return attr.int(value);
  }
  if (Array.isArray(value)) {
    if (value.every((v) => Number.isInteger(v))) return attr.ints(value as number[]); // [] too
    if (value.every((v) => typeof v === 'string')) return attr.strings(value as string[]);
    throw new TypeError(`attribute ${name}: [${value.join(', ')}] is not all integers; use attr.floats([...])`);
  }
  return value as TypedAttribute;
}

// protobufjs writes int64 from a number or a decimal string (bigints go through the string).
function int64(name: string, v: number | bigint): number | string {
  if (typeof v === 'bigint') return v.toString();
  if (!Number.isSafeInteger(v)) throw new TypeError(`attribute ${name}: ${v} is not a safe integer`);
  return v;
}

function bytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? new TextEncoder().encode(v) : v;
}
