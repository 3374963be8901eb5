// Test fixtures shared by the codec tests: one tensor of every datatype, with edge values.
import type { Tensor } from '../infer.ts';

const utf8 = new TextEncoder();

/** One tensor per datatype whose values survive every codec exactly (no -0, no NaN). */
export function sampleTensors(): Tensor[] {
  return [
    { name: 'bool', datatype: 'BOOL', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
    { name: 'u8', datatype: 'UINT8', shape: [3], data: new Uint8Array([0, 127, 255]) },
    { name: 'u16', datatype: 'UINT16', shape: [3], data: new Uint16Array([0, 1234, 65535]) },
    { name: 'u32', datatype: 'UINT32', shape: [3], data: new Uint32Array([0, 1, 4294967295]) },
    { name: 'u64', datatype: 'UINT64', shape: [3], data: new BigUint64Array([0n, 9007199254740993n, 18446744073709551615n]) },
    { name: 'i8', datatype: 'INT8', shape: [4], data: new Int8Array([-128, -1, 0, 127]) },
    { name: 'i16', datatype: 'INT16', shape: [3], data: new Int16Array([-32768, 0, 32767]) },
    { name: 'i32', datatype: 'INT32', shape: [3], data: new Int32Array([-2147483648, 7, 2147483647]) },
    {
      name: 'i64',
      datatype: 'INT64',
      shape: [2, 2],
      data: new BigInt64Array([-9223372036854775808n, -1n, 9007199254740993n, 9223372036854775807n]),
    },
    // 1, -2, 65504 (max), 2^-24 (smallest subnormal)
    { name: 'f16', datatype: 'FP16', shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) },
    // 1, -2, 3.140625
    { name: 'bf16', datatype: 'BF16', shape: [3], data: new Uint16Array([0x3f80, 0xc000, 0x4049]) },
    {
      name: 'f32',
      datatype: 'FP32',
      shape: [2, 3],
      data: new Float32Array([0.1, -1.5, 3.4028234663852886e38, Math.fround(1e-45), 0, 123456.789]),
    },
    { name: 'f64', datatype: 'FP64', shape: [3], data: new Float64Array([Math.PI, -1e308, 5e-324]) },
    { name: 'str', datatype: 'BYTES', shape: [3], data: [utf8.encode('hello'), utf8.encode(''), utf8.encode('héllo ✓ "q" \\ \n')] },
  ];
}

/** True when a typed array (or each BYTES element) owns its whole ArrayBuffer. */
export function ownsBuffer(data: Tensor['data']): boolean {
  const arrays = Array.isArray(data) ? data : [data];
  return arrays.every((a) => a.byteOffset === 0 && a.buffer.byteLength === a.byteLength && a.buffer instanceof ArrayBuffer);
}
