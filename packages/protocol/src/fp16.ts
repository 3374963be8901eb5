// Conversions between JavaScript numbers and the bit patterns of IEEE 754 half precision (FP16)
// and bfloat16 (BF16), the two 16-bit float datatypes of the protocol. Rounding is
// round-to-nearest-even straight from the double, so there is no double rounding through float32.
// Pure arithmetic: runs in Node and browsers.

// A small binary float format: `mantissaBits` stored fraction bits, exponent bias `bias`,
// all-ones exponent for infinities and NaN.
interface SmallFloat {
  readonly mantissaBits: number;
  readonly bias: number;
  readonly maxExponentField: number; // the all-ones exponent field (inf/NaN)
  readonly nan: number; // canonical quiet NaN bits
  readonly minNormal: number; // 2^(1 - bias)
  readonly subnormalScale: number; // 2^(bias - 1 + mantissaBits): value of one subnormal ulp is its inverse
  readonly overflow: number; // the smallest magnitude that rounds to infinity
}

function smallFloat(exponentBits: number, mantissaBits: number, nan: number): SmallFloat {
  const bias = 2 ** (exponentBits - 1) - 1;
  return {
    mantissaBits,
    bias,
    maxExponentField: 2 ** exponentBits - 1,
    nan,
    minNormal: 2 ** (1 - bias),
    subnormalScale: 2 ** (bias - 1 + mantissaBits),
    // Halfway between the largest finite value and 2^(bias+1); ties go to even, i.e. infinity.
    overflow: (2 - 2 ** -(mantissaBits + 1)) * 2 ** bias,
  };
}

const HALF = smallFloat(5, 10, 0x7e00);
const BFLOAT = smallFloat(8, 7, 0x7fc0);

/** Rounds a non-negative number to the nearest integer, ties to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f; // exact: v < 2^53 here
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function encode(x: number, fmt: SmallFloat): number {
  if (x !== x) return fmt.nan;
  const sign = x < 0 || (x === 0 && 1 / x < 0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= fmt.overflow) return sign | (fmt.maxExponentField << fmt.mantissaBits);
  if (a < fmt.minNormal) {
    // Subnormal: a = m * 2^-(subnormal scale). Scaling by a power of two is exact. A result of
    // 2^mantissaBits is the smallest normal, whose bit pattern is the same number.
    return sign | roundHalfEven(a * fmt.subnormalScale);
  }
  // Normal: find e with 2^e <= a < 2^(e+1) exactly (log2 may be off by one near powers of two).
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const one = 2 ** fmt.mantissaBits;
  const m = roundHalfEven((a / 2 ** e) * one); // in [one, 2*one]; 2*one carries into the exponent
  return sign | (((e + fmt.bias) << fmt.mantissaBits) + m - one);
}

function decode(bits: number, fmt: SmallFloat): number {
  const mb = fmt.mantissaBits;
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits & 0x7fff) >> mb;
  const m = bits & ((1 << mb) - 1);
  if (e === 0) return (sign * m) / fmt.subnormalScale;
  if (e === fmt.maxExponentField) return m === 0 ? sign * Infinity : NaN;
  return sign * (2 ** mb + m) * 2 ** (e - fmt.bias - mb);
}

/** IEEE 754 half-precision bits (0..0xFFFF) of the nearest half to `x`, ties to even. NaN → 0x7E00. */
export function toFloat16Bits(x: number): number {
  return encode(x, HALF);
}

/** The number a half-precision bit pattern holds (only the low 16 bits of `bits` are read). */
export function fromFloat16Bits(bits: number): number {
  return decode(bits & 0xffff, HALF);
}

/** bfloat16 bits (0..0xFFFF) of the nearest bfloat16 to `x`, ties to even. NaN → 0x7FC0. */
export function toBFloat16Bits(x: number): number {
  return encode(x, BFLOAT);
}

/** The number a bfloat16 bit pattern holds (only the low 16 bits of `bits` are read). */
export function fromBFloat16Bits(bits: number): number {
  return decode(bits & 0xffff, BFLOAT);
}
