// Property-based fuzzing (fast-check) of the server's own decoders: TF Serving `:predict`
// bodies, sibyl.yaml (YAML text, then the server schema and its endpoints), model config.yaml,
// endpoint configs and batch job specs. The property: whatever the input, the decoder returns or
// throws its documented error type (SibylError for requests, ConfigError for documents) — never
// a TypeError or RangeError that would surface as a 500 or a crash — and never takes long.
// Documents are mutations of valid ones (a few leaves replaced by arbitrary JSON) so the fuzzer
// reaches the cross-field rules, plus arbitrary YAML text. The protocol's decoders are fuzzed
// in packages/protocol/src/decoders.fuzz.test.ts; the live server by bench/fuzz/run.ts.
import fc from 'fast-check';
import { SibylError, type TensorMetadata } from '@sibyl/protocol';
import { describe, expect, it } from 'vitest';
import { compileBatchJob } from '../src/config/batch-job-config.ts';
import { compileEndpointConfig } from '../src/config/endpoint-config.ts';
import { compileModelConfig } from '../src/config/model-config.ts';
import { compileServerConfig, serverConfigDefaults } from '../src/config/server-config.ts';
import { ConfigError } from '../src/config/validate.ts';
import { parseYaml } from '../src/config/yaml-file.ts';
import { decodePredictRequest } from '../src/frontends/http/tfserving/predict-codec.ts';

/** SIBYL_FUZZ_RUNS raises the runs for a longer local search. */
const RUNS = { numRuns: Number(process.env.SIBYL_FUZZ_RUNS ?? 300) };
const PER_CASE_MS = 500;

/** Runs `f`; fails the property on an error not of `allowed` (or a slow run). */
function onlyErrorsOf(allowed: (new (...args: never[]) => Error)[], f: () => unknown): boolean {
  const started = performance.now();
  let thrown: { error: unknown } | undefined;
  try {
    f();
  } catch (error) {
    thrown = { error };
  }
  const ms = performance.now() - started;
  if (ms > PER_CASE_MS) throw new Error(`took ${ms.toFixed(0)} ms`);
  const err = thrown?.error as Error | undefined;
  if (thrown !== undefined && !allowed.some((type) => err instanceof type)) throw new Error(`threw ${err?.constructor?.name}: ${err?.message}`, { cause: err });
  return true;
}

/** Every path to a value inside `doc` (objects and arrays), the root included. */
function pathsOf(doc: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (typeof doc === 'object' && doc !== null) for (const [k, v] of Object.entries(doc)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

/** `doc` with the value at `path` replaced (undefined deletes it); the root replaced returns `value`. */
function replaced(doc: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(doc)) {
    const copy = [...(doc as unknown[])];
    // Removed: an array element is spliced out (JSON has no holes).
    if (rest.length === 0 && value === undefined) copy.splice(Number(head), 1);
    else copy[Number(head)] = replaced(copy[Number(head)], rest, value);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  if (rest.length === 0 && value === undefined) delete copy[String(head)];
  else copy[String(head)] = replaced(copy[String(head)], rest, value);
  return copy;
}

const leafValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.constantFrom('', '..', '/etc/passwd', -1, 0, 1e308, 2 ** 53, 'a\u0000b', '%', '${HOME}', true));

/** Mutations of `valid`: 0 to 4 of its values (any depth) replaced by arbitrary JSON or removed, or an extra key added. */
function mutationsOf(valid: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  return fc.array(fc.tuple(fc.nat(), leafValue, fc.option(fc.string({ maxLength: 6 }), { nil: undefined })), { maxLength: 4 }).map((edits) => {
    let doc = valid;
    for (const [n, value, extraKey] of edits) {
      const path = paths[n % paths.length]!;
      // An extra key goes into objects only (on an array it would be `length`, say).
      const at = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], doc);
      const object = typeof at === 'object' && at !== null && !Array.isArray(at);
      doc = replaced(doc, extraKey !== undefined && object ? [...path, extraKey] : path, value);
    }
    // What a JSON or YAML parser could give: no holes, no undefined.
    return JSON.parse(JSON.stringify(doc) ?? 'null') as unknown;
  });
}

describe('fuzz: TF Serving :predict bodies (decodePredictRequest)', () => {
  const signatures: TensorMetadata[][] = [
    [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
    [
      { name: 'a', datatype: 'INT64', shape: [-1] },
      { name: 'text_bytes', datatype: 'BYTES', shape: [-1, 1] },
    ],
    [{ name: 'flag', datatype: 'BOOL', shape: [-1, 2] }],
  ];
  const valid = [
    { instances: [[1, 2, 3, 4], [5, 6, 7, 8]] },
    { inputs: { a: [1, 2], text_bytes: [[{ b64: 'aGk=' }], ['hi']] } },
    { signature_name: 'serving_default', instances: [{ flag: [true, false] }] },
    { inputs: [[1.5, 2, 3, 4]] },
  ];

  it('throws only SibylError for mutated and arbitrary bodies, against any signature', () => {
    const body = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid).chain(mutationsOf) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 5 }) });
    fc.assert(fc.property(body, fc.constantFrom(...signatures), (b, inputs) => onlyErrorsOf([SibylError], () => decodePredictRequest(b, inputs))), RUNS);
  });
});

describe('fuzz: configuration documents', () => {
  const defaults = serverConfigDefaults('/srv/models');

  it('YAML text: parseYaml throws only ConfigError', () => {
    const yamlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(fc.constantFrom('a: 1\n', '- x\n', '  b: [1, 2\n', '&a x\n', '*a\n', '? k\n', ': v\n', '!!binary AAA\n', '%YAML 1.2\n---\n', '"unterminated\n', '{a: {b: {c: \n', 'k: &x [*x]\n', '\t- tab\n'), { maxLength: 12 }).map((lines) => lines.join('')),
    );
    fc.assert(fc.property(yamlish, (text) => onlyErrorsOf([ConfigError], () => parseYaml(text, 'fuzz.yaml'))), RUNS);
  });

  it('sibyl.yaml: compileServerConfig throws only ConfigError for mutated documents', () => {
    const valid = {
      host: '127.0.0.1',
      logLevel: 'info',
      modelControlMode: 'explicit',
      http: { port: 8000, bodyLimitBytes: 1048576, corsOrigins: ['https://a.example'] },
      grpc: { port: 8001 },
      limits: { maxTensorElements: 1000 },
      endpoints: {
        scores: { hybrid: { target: { model: 'm' }, key: { parameter: 'id' }, maxAgeMs: 1000, default: { outputs: [{ name: 'p', datatype: 'FP32', shape: [1], data: [0.5] }] } } },
        ab: { split: { arms: [{ name: 'a', weight: 1, model: 'm', version: 1 }, { name: 'b', weight: 1, model: 'm', version: 2 }] } },
        c: { canary: { stable: { model: 'm', version: 1 }, candidate: { model: 'm', version: 2 }, stages: [5, 50] } },
      },
      schedules: { nightly: { job: 'job.yaml', cron: '0 2 * * *' } },
    };
    fc.assert(fc.property(mutationsOf(valid), (document) => onlyErrorsOf([ConfigError], () => compileServerConfig({ defaults, file: { path: 'sibyl.yaml', document }, env: {}, flags: {} }))), RUNS);
  });

  it('endpoint configs (PUT /v1/endpoints/{e}): compileEndpointConfig throws only ConfigError', () => {
    const valid = { canary: { stable: { model: 'm', version: 1 }, candidate: { model: 'm', label: 'next' }, stages: [5, 25], analysis: { maxErrorRate: 0.1 } }, shadow: { target: { model: 'n' }, fraction: 0.5 } };
    fc.assert(fc.property(mutationsOf(valid), fc.constantFrom('e', '..', 'a/b'), (document, name) => onlyErrorsOf([ConfigError], () => compileEndpointConfig(name, document, 'request'))), RUNS);
  });

  it('model config.yaml and load overrides: compileModelConfig throws only ConfigError', () => {
    const valid = { maxBatchSize: 8, dynamicBatching: { maxQueueDelayMs: 2 }, instanceCount: 1, labels: { stable: 1 }, inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }] };
    fc.assert(fc.property(mutationsOf(valid), (document) => onlyErrorsOf([ConfigError], () => compileModelConfig(document, '/srv/models/m/config.yaml'))), RUNS);
  });

  it('batch job specs (YAML or JSON): compileBatchJob throws only ConfigError', () => {
    const valid = {
      name: 'nightly',
      source: { csv: 'customers.csv' },
      key: ['customer_id', 'day'],
      inputs: { input: { columns: ['f0', 'f1'] }, other: { column: 'vec' } },
      target: { model: 'm', label: 'stable' },
      outputs: ['p'],
      store: { sqlite: 'predictions.sqlite' },
      chunkRows: 100,
    };
    const document = fc.oneof({ weight: 4, arbitrary: mutationsOf(valid) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
    fc.assert(fc.property(document, (d) => onlyErrorsOf([ConfigError], () => compileBatchJob(d, '/srv/jobs/job.yaml'))), RUNS);
  });

  it('the property can fail, and a path-escaping target is a ConfigError', () => {
    expect(() => onlyErrorsOf([ConfigError], () => JSON.parse('{'))).toThrow(/threw SyntaxError/);
    const job = { name: 'j', source: { csv: 'a.csv' }, key: 'k', inputs: { x: { column: 'c' } }, target: { model: '../../etc' } };
    expect(() => compileBatchJob(job, '/srv/jobs/job.yaml')).toThrow(/target\.model: contains '\/', a path separator/);
  });

  it('found by fuzzing: a document with many unknown fields is refused, not passed unvalidated (TypeBox yields only the first few errors)', () => {
    const many = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, canary: '' };
    expect(() => compileEndpointConfig('e', many, 'request')).toThrow(ConfigError);
    expect(() => compileEndpointConfig('e', many, 'request')).toThrow(/a: unknown field/);
  });

  it('found by fuzzing: a YAML alias without its anchor is a ConfigError, not a ReferenceError', () => {
    expect(() => parseYaml('*a\n', 'sibyl.yaml')).toThrow(ConfigError);
    expect(() => parseYaml('a: &x [1]\nb: [*x, *x, *x]\n', 'sibyl.yaml')).not.toThrow();
  });
});
