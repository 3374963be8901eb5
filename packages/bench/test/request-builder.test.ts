// Request building: shapes from metadata and --shape, random data for every datatype (seeded),
// pre-encoded JSON and binary bodies that the protocol decoders accept, and input files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATATYPES, decodeInferRequest, decodeInferRequestBinary, encodeInferRequest, fromFloat16Bits, TYPED_ARRAY } from '@sibyl/protocol';
import type { Datatype, ModelMetadata } from '@sibyl/protocol';
import { BenchError } from '../src/errors.ts';
import { parseEndpoint, prepareRequest } from '../src/http-request.ts';
import { encodeBodies, INT_RANGE, loadInputFile, randomData, randomRequests, resolveInputSpecs } from '../src/request-builder.ts';
import { seededRandom } from '../src/random.ts';

const metadata = (inputs: ModelMetadata['inputs']): ModelMetadata => ({ name: 'm', platform: 'test', inputs, outputs: [] });

function benchError(fn: () => unknown): BenchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BenchError) return e;
    throw e;
  }
  throw new Error('expected a BenchError');
}

describe('input shapes', () => {
  it('gives a variable first dimension the batch size and keeps fixed dimensions', () => {
    const specs = resolveInputSpecs(metadata([{ name: 'x', datatype: 'FP32', shape: [-1, 3, 4] }, { name: 'k', datatype: 'INT64', shape: [2] }]), 8, {});
    expect(specs).toEqual([
      { name: 'x', datatype: 'FP32', shape: [8, 3, 4] },
      { name: 'k', datatype: 'INT64', shape: [2] },
    ]);
  });

  it('takes --shape over the metadata', () => {
    const specs = resolveInputSpecs(metadata([{ name: 'ids', datatype: 'INT64', shape: [-1, -1] }]), 1, { ids: [2, 128] });
    expect(specs[0]!.shape).toEqual([2, 128]);
  });

  it('asks for --shape when a later dimension is variable, and refuses shapes that do not fit', () => {
    const meta = metadata([{ name: 'ids', datatype: 'INT64', shape: [-1, -1] }]);
    const e = benchError(() => resolveInputSpecs(meta, 1, {}));
    expect(e.kind).toBe('usage');
    expect(e.message).toMatch(/dimension 1 is variable.*--shape ids:1,1/);
    expect(benchError(() => resolveInputSpecs(meta, 1, { ids: [1, 2, 3] })).message).toMatch(/3 dimensions/);
    expect(benchError(() => resolveInputSpecs(meta, 1, { ids: [1, 2], other: [1] })).message).toMatch(/names input 'other'.*'ids'/);
  });

  it('reports unusable metadata as a metadata error', () => {
    expect(benchError(() => resolveInputSpecs(metadata([]), 1, {})).kind).toBe('metadata');
    expect(benchError(() => resolveInputSpecs(metadata([{ name: 'x', datatype: 'FLOAT' as Datatype, shape: [1] }]), 1, {})).message).toMatch(/not a V2 datatype/);
  });
});

describe('random data', () => {
  it.each(DATATYPES.filter((d) => d !== 'BYTES'))('%s: the datatype\'s typed array, in range, seeded', (datatype) => {
    const a = randomData(datatype, 1000, seededRandom(3), 16);
    expect(a).toBeInstanceOf(TYPED_ARRAY[datatype]);
    expect((a as ArrayLike<unknown>).length).toBe(1000);
    const values = Array.from(a as ArrayLike<number | bigint>, (v) => (datatype === 'FP16' ? fromFloat16Bits(v as number) : Number(v)));
    if (datatype === 'BOOL') expect(new Set(values)).toEqual(new Set([0, 1]));
    else if (datatype === 'FP32' || datatype === 'FP64' || datatype === 'FP16') {
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeLessThanOrEqual(1);
      expect(new Set(values).size).toBeGreaterThan(100);
    } else if (datatype !== 'BF16') {
      expect(values.every((v) => Number.isInteger(v) && v >= 0 && v < INT_RANGE)).toBe(true);
      expect(new Set(values).size).toBeGreaterThan(50);
    }
    expect(randomData(datatype, 1000, seededRandom(3), 16)).toEqual(a);
    expect(randomData(datatype, 1000, seededRandom(4), 16)).not.toEqual(a);
  });

  it('BYTES: elements of the given length, lowercase letters', () => {
    const a = randomData('BYTES', 5, seededRandom(1), 12) as Uint8Array[];
    expect(a).toHaveLength(5);
    for (const e of a) expect(Buffer.from(e).toString()).toMatch(/^[a-z]{12}$/);
  });
});

describe('encoded bodies', () => {
  const specs = DATATYPES.map((datatype, i) => ({ name: `in_${datatype.toLowerCase()}`, datatype, shape: [2, i + 1] }));

  it('JSON bodies decode back to the generated requests, one per distinct request', () => {
    const requests = randomRequests(specs, 3, 9, 4);
    const bodies = encodeBodies(requests.map((request) => ({ request, json: encodeInferRequest(request) })), false, true);
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies.map((b) => Buffer.from(b.body).toString())).size).toBe(3);
    bodies.forEach((b, i) => {
      expect(b.headerLength).toBeUndefined();
      expect(b.rows).toBe(2);
      const decoded = decodeInferRequest(b.body);
      expect(decoded.inputs.map((t) => [t.name, t.datatype, t.shape])).toEqual(specs.map((s) => [s.name, s.datatype, s.shape]));
      for (const [k, t] of decoded.inputs.entries()) expect(t.data).toEqual(requests[i]!.inputs[k]!.data);
    });
  });

  it('binary bodies decode back and ask for binary outputs', () => {
    const requests = randomRequests(specs, 2, 9, 4);
    const bodies = encodeBodies(requests.map((request) => ({ request, json: encodeInferRequest(request) })), true, false);
    bodies.forEach((b, i) => {
      expect(b.rows).toBe(1); // the model does not batch
      const decoded = decodeInferRequestBinary(b.body, b.headerLength!);
      expect(decoded.parameters).toEqual({ binary_data_output: true });
      for (const [k, t] of decoded.inputs.entries()) expect(t.data).toEqual(requests[i]!.inputs[k]!.data);
    });
  });

  it('prepares the whole HTTP request as one buffer', () => {
    const [body] = encodeBodies([{ request: randomRequests(specs.slice(0, 1), 1, 1, 1)[0]!, json: '{"inputs":[]}' }], true, false);
    const endpoint = parseEndpoint('http://localhost:9000/prefix/');
    const text = prepareRequest(endpoint, '/prefix/v2/models/m/infer', body!, { Authorization: 'Bearer x' }).bytes.toString('latin1');
    const [head, rest] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
    expect(head.split('\r\n')).toEqual([
      'POST /prefix/v2/models/m/infer HTTP/1.1',
      'Host: localhost:9000',
      'Content-Type: application/octet-stream',
      `Inference-Header-Content-Length: ${body!.headerLength}`,
      `Content-Length: ${body!.body.length}`,
      'Authorization: Bearer x',
    ]);
    expect(Buffer.from(rest, 'latin1')).toEqual(Buffer.from(body!.body));
    expect(endpoint).toMatchObject({ host: 'localhost', port: 9000, basePath: '/prefix', tls: false });
  });
});

describe('input files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sibyl-bench-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a single request file as-is in JSON mode', async () => {
    const text = '{"inputs": [{"name": "x", "datatype": "INT64", "shape": [1], "data": [9007199254740993]}]}';
    await writeFile(path.join(dir, 'one.json'), text);
    const given = await loadInputFile(path.join(dir, 'one.json'));
    expect(given).toHaveLength(1);
    expect(given[0]!.json).toBe(text); // exact, even beyond 2^53
    expect(given[0]!.request.inputs[0]!.data).toEqual(new BigInt64Array([9007199254740993n]));
  });

  it('reads {"requests": [...]} for round-robin', async () => {
    const requests = [1, 2, 3].map((v) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [v] }] }));
    await writeFile(path.join(dir, 'many.json'), JSON.stringify({ requests }));
    const given = await loadInputFile(path.join(dir, 'many.json'));
    expect(given.map((g) => JSON.parse(g.json))).toEqual(requests);
    expect(encodeBodies(given, false, true).map((b) => b.rows)).toEqual([1, 1, 1]);
  });

  it('names the file and the problem when it is unusable', async () => {
    await writeFile(path.join(dir, 'bad.json'), '{"requests": [{"inputs": [{"name": "x"}]}]}');
    await writeFile(path.join(dir, 'notjson.json'), 'inputs: []');
    const fail = async (file: string) => loadInputFile(path.join(dir, file)).then(() => undefined, (e: BenchError) => e);
    const bad = await fail('bad.json');
    expect(bad?.kind).toBe('usage');
    expect(bad?.message).toMatch(/bad\.json: requests\[0\] is not a valid V2 inference request: .*datatype/);
    expect((await fail('notjson.json'))?.message).toMatch(/is not JSON/);
    expect((await fail('missing.json'))?.message).toMatch(/cannot read it/);
  });
});
