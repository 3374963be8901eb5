import { describe, expect, it } from 'vitest';
import { bodyContentOf, bodyCostBytes, JSON_BODY, type BodyContent } from './body-cost.ts';

const MiB = 1024 ** 2;
const binary = (jsonHeaderBytes: number): BodyContent => ({ kind: 'binary', jsonHeaderBytes });

describe('bodyCostBytes', () => {
  it.each([
    // [bytes, content, cost]
    [0, JSON_BODY, 0],
    [1000, JSON_BODY, 14_000],
    [60_000_000, JSON_BODY, 840_000_000], // the M1 repro's body: ~800 MiB while decoded
    [64 * MiB, JSON_BODY, 896 * MiB], // one largest body at the default body limit
    [60_000_000, binary(0), 120_000_000], // raw binary: body + tensors
    [60_000_000, binary(200), 200 * 14 + (60_000_000 - 200) * 2], // the JSON header costs as JSON
    [100, binary(150), 1400], // a header longer than what arrived yet: all JSON so far
    [-5, JSON_BODY, 0],
  ] as const)('%i bytes of %j cost %i', (bytes, content, cost) => {
    expect(bodyCostBytes(bytes, content)).toBe(cost);
  });

  it('is monotone in the bytes received, so a body arriving in pieces is charged the differences', () => {
    const content = binary(300);
    let last = 0;
    for (let bytes = 0; bytes <= 1000; bytes += 50) {
      const cost = bodyCostBytes(bytes, content);
      expect(cost).toBeGreaterThanOrEqual(last);
      last = cost;
    }
  });
});

describe('bodyContentOf', () => {
  it.each([
    [{}, JSON_BODY],
    [{ 'content-type': 'application/json' }, JSON_BODY],
    [{ 'content-type': 'application/octet-stream' }, JSON_BODY], // without the header the route decodes JSON
    [{ 'inference-header-content-length': '120' }, binary(120)],
    [{ 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' }, binary(0)],
    [{ 'inference-header-content-length': ['64', '9'] }, binary(64)],
    [{ 'inference-header-content-length': '-1' }, JSON_BODY], // refused by the route; counted as the larger cost
    [{ 'inference-header-content-length': 'abc' }, JSON_BODY],
  ] as const)('%j → %j', (headers, content) => {
    expect(bodyContentOf(headers)).toEqual(content);
  });
});
