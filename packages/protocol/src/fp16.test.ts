import { describe, it, expect } from 'vitest';
import { fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from './fp16.ts';

// Deterministic pseudo-random source (mulberry32) so failures reproduce.
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('toFloat16Bits', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite half
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -24, 0x0001], // smallest subnormal
    [1 / 3, 0x3555],
    [0.1, 0x2e66],
    [Math.PI, 0x4248],
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ])('%d → %i', (x, bits) => {
    expect(toFloat16Bits(x)).toBe(bits);
  });

  it('returns the canonical quiet NaN for NaN', () => {
    expect(toFloat16Bits(NaN)).toBe(0x7e00);
  });

  it('rounds to nearest, ties to even', () => {
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie between 0x3C00 (even) and 0x3C01
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 0x3C01 and 0x3C02 (even)
    expect(toFloat16Bits(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01); // just above the tie
    expect(toFloat16Bits(1 + 2 ** -11 - 2 ** -40)).toBe(0x3c00); // just below the tie
    expect(toFloat16Bits(2 - 2 ** -12)).toBe(0x4000); // rounds up across the exponent boundary
  });

  it('rounds subnormals and underflow to even', () => {
    expect(toFloat16Bits(2 ** -25)).toBe(0x0000); // half the smallest subnormal: tie to 0
    expect(toFloat16Bits(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(toFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulp: tie to 2
    expect(toFloat16Bits(-(2 ** -26))).toBe(0x8000); // underflows to -0
    expect(toFloat16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up into the smallest normal
  });

  it('overflows to infinity from 65520 (the tie above 65504) on', () => {
    expect(toFloat16Bits(65519.99)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00);
    expect(toFloat16Bits(-65520)).toBe(0xfc00);
    expect(toFloat16Bits(1e10)).toBe(0x7c00);
  });

  it('picks the nearest half for random doubles (ties to even)', () => {
    const rnd = random(42);
    for (let i = 0; i < 20_000; i++) {
      const x = (rnd() - 0.5) * 2 ** Math.floor(rnd() * 40 - 26);
      const b = toFloat16Bits(x);
      const v = fromFloat16Bits(b);
      const err = Math.abs(x - v);
      const mag = b & 0x7fff;
      // Neighbours of the same sign (the next one down from +0 is -0's neighbour, skip it).
      for (const n of [mag - 1, mag + 1]) {
        if (n < 0 || n >= 0x7c00) continue;
        const nv = fromFloat16Bits((b & 0x8000) | n);
        const nerr = Math.abs(x - nv);
        expect(err <= nerr).toBe(true);
        if (err === nerr) expect(mag % 2).toBe(0);
      }
    }
  });
});

describe('fromFloat16Bits', () => {
  it.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x03ff, 2 ** -14 - 2 ** -24],
    [0x0001, 2 ** -24],
    [0x3555, 0.333251953125],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('%i → %d', (bits, x) => {
    expect(fromFloat16Bits(bits)).toBe(x);
  });

  it('keeps the sign of zero', () => {
    expect(Object.is(fromFloat16Bits(0x8000), -0)).toBe(true);
    expect(Object.is(fromFloat16Bits(0x0000), 0)).toBe(true);
  });

  it('reads every NaN pattern as NaN', () => {
    expect(fromFloat16Bits(0x7e00)).toBeNaN();
    expect(fromFloat16Bits(0x7c01)).toBeNaN();
    expect(fromFloat16Bits(0xffff)).toBeNaN();
  });

  it('round-trips all 63,488 non-NaN bit patterns exactly', () => {
    let checked = 0;
    for (let b = 0; b <= 0xffff; b++) {
      if ((b & 0x7c00) === 0x7c00 && (b & 0x03ff) !== 0) continue; // NaN
      expect(toFloat16Bits(fromFloat16Bits(b))).toBe(b);
      checked++;
    }
    expect(checked).toBe(65536 - 2 * 1023);
  });
});

describe('bfloat16', () => {
  it.each([
    [1, 0x3f80],
    [-2, 0xc000],
    [Math.PI, 0x4049],
    [1 / 3, 0x3eab],
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [(2 - 2 ** -7) * 2 ** 127, 0x7f7f], // largest finite
    [2 ** -126, 0x0080], // smallest normal
    [2 ** -133, 0x0001], // smallest subnormal
  ])('toBFloat16Bits(%d) = %i', (x, bits) => {
    expect(toBFloat16Bits(x)).toBe(bits);
    if (x !== Math.PI && x !== 1 / 3) expect(fromBFloat16Bits(bits)).toBe(x); // exact values come back
  });

  it('reads rounded values back as the bfloat16 value', () => {
    expect(fromBFloat16Bits(0x4049)).toBe(3.140625);
    expect(fromBFloat16Bits(0x3eab)).toBe(0.333984375);
  });

  it('maps NaN to 0x7FC0 and NaN patterns to NaN', () => {
    expect(toBFloat16Bits(NaN)).toBe(0x7fc0);
    expect(fromBFloat16Bits(0x7fc0)).toBeNaN();
    expect(fromBFloat16Bits(0x7f81)).toBeNaN();
  });

  it('rounds ties to even and overflows past the largest finite value', () => {
    expect(toBFloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie, even stays
    expect(toBFloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie, rounds up to even
    expect(toBFloat16Bits(3.4028234663852886e38)).toBe(0x7f80); // float32 max rounds to infinity
  });

  it('agrees with rounding the float32 bits for random float32 values', () => {
    const rnd = random(7);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < 20_000; i++) {
      u[0] = Math.floor(rnd() * 2 ** 32);
      const x = f[0]!;
      if (Number.isNaN(x)) continue;
      const bits = u[0]!;
      const expected = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
      expect(toBFloat16Bits(x)).toBe(expected & 0xffff);
    }
  });

  it('round-trips every non-NaN bit pattern exactly', () => {
    for (let b = 0; b <= 0xffff; b++) {
      if ((b & 0x7f80) === 0x7f80 && (b & 0x007f) !== 0) continue;
      expect(toBFloat16Bits(fromBFloat16Bits(b))).toBe(b);
    }
  });
});
