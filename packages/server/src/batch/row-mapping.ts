// Rows → InferRequests, through the code the online V2 JSON path uses: a row's columns become JSON
// values (CSV text as the number or string it spells), the values of many rows become one flat
// JSON array per input, and the protocol's tensorDataFromJson — the element decoder behind
// decodeInferRequest — turns it into the typed array; the inference service then validates the
// request against the model's signature as for any online request. So a row scored by a batch
// job and the same row posted to /v2/models/{m}/infer give identical predictions.
//
// A row that cannot be mapped (a missing column, a value that is not of the input's datatype) is
// rejected with a reason naming the column and the row number; the other rows go on.
import { SibylError, parseJsonExact, tensorDataFromJson, type Datatype, type InferRequest, type Tensor, type TensorMetadata } from '@sibyl/protocol';
import type { InputMapping } from '../config/batch-job-config.ts';
import { KEY_SEPARATOR } from '../routing/stored-prediction.ts';
import type { ColumnValues, SourceChunk } from './source.ts';

/** What mapping needs of the model: its inputs and whether the first dimension is the batch. */
export interface MappingSignature {
  inputs: readonly TensorMetadata[];
  /** 0: the model does not batch (one row per request, shapes in full). */
  maxBatchSize: number;
}

interface PlannedInput {
  name: string;
  datatype: Datatype;
  /** Columns whose values are the row's elements (`columns`), or the one column holding them (`column`). */
  columns: readonly string[];
  /** Whether one column holds the whole input (an array or a value). */
  whole: boolean;
  /** The shape of one row's part of the tensor (the full shape for models that do not batch). */
  rowShape: number[];
  /** Elements per row. */
  rowElements: number;
}

const INTEGER_DATATYPES = new Set<Datatype>(['INT8', 'INT16', 'INT32', 'UINT8', 'UINT16', 'UINT32']);
const FLOAT_DATATYPES = new Set<Datatype>(['FP16', 'BF16', 'FP32', 'FP64']);
const DECIMAL_INTEGER = /^[+-]?\d+$/;
// What Number() accepts that is a plain decimal or exponent number (no hex, no blanks, no Infinity).
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Thrown by value conversion: the reason a row is rejected (without the row number). */
class RowProblem extends Error {}

export class RowMapper {
  private readonly planned: PlannedInput[];

  /** Checks the mapping against the signature. @throws SibylError INVALID_ARGUMENT naming the input and what the model expects. */
  constructor(
    mappings: readonly InputMapping[],
    private readonly key: readonly string[],
    private readonly signature: MappingSignature,
    private readonly model: string,
  ) {
    const describe = (t: TensorMetadata): string => `'${t.name}' (${t.datatype} [${t.shape.join(', ')}])`;
    const unknown = mappings.filter((m) => !signature.inputs.some((t) => t.name === m.input));
    if (unknown.length > 0) {
      throw new SibylError('INPUT_UNKNOWN', `the job maps input${unknown.length > 1 ? 's' : ''} ${unknown.map((m) => `'${m.input}'`).join(', ')}, which model '${model}' does not have; its inputs are ${signature.inputs.map(describe).join(', ')}`);
    }
    const missing = signature.inputs.filter((t) => !mappings.some((m) => m.input === t.name));
    if (missing.length > 0) throw new SibylError('INPUT_MISSING', `model '${model}' needs input${missing.length > 1 ? 's' : ''} ${missing.map(describe).join(', ')}; map ${missing.length > 1 ? 'them' : 'it'} under inputs: in the job`);
    this.planned = mappings.map((m) => {
      const t = signature.inputs.find((s) => s.name === m.input)!;
      const shape = signature.maxBatchSize > 0 ? t.shape.slice(1) : [...t.shape];
      if ('columns' in m) {
        const fixed = product(shape.filter((d) => d !== -1));
        const variable = shape.filter((d) => d === -1).length;
        const n = m.columns.length;
        if (variable > 1 || (variable === 0 && fixed !== n) || (variable === 1 && n % fixed !== 0)) {
          throw new SibylError(
            'INPUT_SHAPE_MISMATCH',
            `the job maps ${n} column${n === 1 ? '' : 's'} to input ${describe(t)}, whose rows hold ${variable === 0 ? fixed : `a multiple of ${fixed}`} element${fixed === 1 && variable === 0 ? '' : 's'}; list that many columns`,
          );
        }
        const rowShape = shape.map((d) => (d === -1 ? n / fixed : d));
        return { name: t.name, datatype: t.datatype, columns: m.columns, whole: false, rowShape, rowElements: n };
      }
      if (shape.includes(-1)) {
        throw new SibylError('INPUT_SHAPE_MISMATCH', `input ${describe(t)} has a variable dimension besides the batch; a whole-column input needs a fixed shape: fix it in the model's config.yaml, or map columns: [...]`);
      }
      return { name: t.name, datatype: t.datatype, columns: [m.column], whole: true, rowShape: shape, rowElements: product(shape) };
    });
  }

  /** Columns whose values must stay text (keys, whole-column inputs that hold JSON, BYTES and 64-bit integer inputs). */
  textColumns(): string[] {
    const out = new Set(this.key);
    for (const p of this.planned) if (p.whole || p.datatype === 'BYTES' || p.datatype === 'INT64' || p.datatype === 'UINT64') for (const c of p.columns) out.add(c);
    return [...out];
  }

  /** The key of row `r`, or a RowProblem reason. */
  keyOf(chunk: SourceChunk, r: number): string {
    let key = '';
    for (let i = 0; i < this.key.length; i++) {
      const column = this.key[i]!;
      const v = valueAt(chunk, column, r);
      if (v === undefined || v === null || v === '') throw new RowProblem(`key column '${column}' is ${v === undefined ? 'missing' : 'empty'}`);
      const text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
      key = i === 0 ? text : key + KEY_SEPARATOR + text;
    }
    return key;
  }

  /**
   * Sorts a chunk's rows: the key of every row that maps (by position in the chunk), and a
   * reason for every row that does not.
   */
  check(chunk: SourceChunk): { keys: (string | undefined)[]; good: number[]; problems: Map<number, string> } {
    const n = chunk.columns?.rowCount ?? chunk.rows.length;
    const keys = new Array<string | undefined>(n);
    const good: number[] = [];
    const problems = new Map<number, string>();
    const columns = chunk.columns;
    // Columnar chunks: the numeric columns of each input, looked up once per chunk.
    const numeric = this.planned.map((p) => (columns === undefined || p.whole ? undefined : p.columns.map((c) => columns.get(c))));
    for (let r = 0; r < n; r++) {
      try {
        keys[r] = this.keyOf(chunk, r);
        for (let i = 0; i < this.planned.length; i++) {
          const p = this.planned[i]!;
          const cols = numeric[i];
          if (cols === undefined) {
            for (const column of p.columns) toJsonValue(valueAt(chunk, column, r), p, column);
            continue;
          }
          const integer = INTEGER_DATATYPES.has(p.datatype);
          for (let j = 0; j < cols.length; j++) {
            const c = cols[j];
            if (c === undefined) throw new RowProblem(`column '${p.columns[j]}' is missing`);
            const x = c.numbers[r]!;
            if (x !== x) toJsonValue(c.texts[r], p, p.columns[j]!);
            else if (integer && !Number.isInteger(x)) throw new RowProblem(`column '${p.columns[j]}' is ${x}; input '${p.name}' (${p.datatype}) expects an integer`);
          }
        }
        good.push(r);
      } catch (err) {
        if (!(err instanceof RowProblem)) throw err;
        problems.set(r, err.message);
      }
    }
    return { keys, good, problems };
  }

  /**
   * The request for rows `rows` of the chunk (rows that passed check()), and the reason for any
   * row the codec refuses (e.g. an integer out of its datatype's range): such rows are left out
   * of the request.
   */
  build(chunk: SourceChunk, rows: readonly number[]): { request: InferRequest | undefined; rows: number[]; problems: Map<number, string> } {
    const problems = new Map<number, string>();
    try {
      return { request: this.request(chunk, rows), rows: [...rows], problems };
    } catch (err) {
      if (!(err instanceof SibylError)) throw err;
    }
    // Isolate the rows the codec refuses, then build the request of the others.
    const kept: number[] = [];
    for (const r of rows) {
      try {
        this.request(chunk, [r]);
        kept.push(r);
      } catch (err) {
        if (!(err instanceof SibylError)) throw err;
        problems.set(r, this.explain(err));
      }
    }
    return { request: kept.length === 0 ? undefined : this.request(chunk, kept), rows: kept, problems };
  }

  // "input 'x' (FP32) element 3 is …" names an element; say which column it came from.
  private explain(err: SibylError): string {
    const m = /^input '([^']*)' \(\w+\) element (\d+) (.*)$/.exec(err.message);
    if (m === null) return err.message;
    const p = this.planned.find((q) => q.name === m[1]);
    if (p === undefined || p.whole) return err.message;
    return `column '${p.columns[Number(m[2]) % p.columns.length]}' ${m[3]} (input '${p.name}', ${p.datatype})`;
  }

  private request(chunk: SourceChunk, rows: readonly number[]): InferRequest {
    const batched = this.signature.maxBatchSize > 0;
    const inputs: Tensor[] = this.planned.map((p) => {
      const values = this.values(chunk, p, rows);
      const shape = batched ? [rows.length, ...p.rowShape] : p.rowShape;
      // tensorDataFromJson reads `values` by index and element type only, so a Float64Array of
      // numbers decodes exactly as the same numbers in a JSON array would.
      return { name: p.name, datatype: p.datatype, shape, data: tensorDataFromJson({ name: p.name, datatype: p.datatype, shape }, values as readonly unknown[]) };
    });
    return { inputs };
  }

  /**
   * The flat JSON values of input `p` for these rows. Numbers of numeric inputs go in a
   * Float64Array rather than a JS array: the same values (doubles) for the codec's element
   * decoder, without a boxed array of rows × elements to collect.
   */
  private values(chunk: SourceChunk, p: PlannedInput, rows: readonly number[]): ArrayLike<unknown> {
    const k = p.columns.length;
    const numeric = FLOAT_DATATYPES.has(p.datatype) || INTEGER_DATATYPES.has(p.datatype);
    const size = rows.length * (p.whole ? 1 : k);
    const columns = chunk.columns;
    if (columns !== undefined && !p.whole) {
      // The hot path: numbers straight from the parsed columns.
      const out: Float64Array | unknown[] = numeric ? new Float64Array(size) : new Array<unknown>(size);
      const cols: ColumnValues[] = p.columns.map((c) => columns.get(c)!);
      const numbers = cols.map((c) => c.numbers);
      let o = 0;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        for (let j = 0; j < k; j++) {
          const x = numbers[j]![r]!;
          out[o++] = (x === x ? x : toJsonValue(cols[j]!.texts[r], p, p.columns[j]!)) as number;
        }
      }
      return out;
    }
    const out = new Array<unknown>(size);
    let o = 0;
    for (const r of rows) for (const column of p.columns) out[o++] = toJsonValue(valueAt(chunk, column, r), p, column);
    return out;
  }
}

/** A row's value of a column, from its columns or its row object. */
function valueAt(chunk: SourceChunk, column: string, r: number): unknown {
  const columns = chunk.columns;
  if (columns !== undefined) {
    const c = columns.get(column);
    if (c === undefined) return undefined;
    const x = c.numbers[r]!;
    return x === x ? x : c.texts[r];
  }
  return chunk.rows[r]![column];
}

/**
 * A column's value as the JSON value the online path would receive: JSON values as they are;
 * text (CSV, SQL decimals) as the number, integer, boolean or JSON it spells, by the input's
 * datatype. @throws RowProblem naming the column and what was expected.
 */
function toJsonValue(v: unknown, p: PlannedInput, column: string): unknown {
  if (v === undefined || v === null || v === '') throw new RowProblem(`column '${column}' is ${v === undefined ? 'missing' : 'empty'}`);
  const expected = (what: string): RowProblem => new RowProblem(`column '${column}' is ${preview(v)}; input '${p.name}' (${p.datatype}) expects ${what}`);
  if (p.whole) {
    // One column holds the input: an array (a JSON array in text) or a single value.
    let value: unknown = v;
    if (typeof v === 'string' && p.datatype !== 'BYTES') {
      try {
        value = parseJsonExact(v);
      } catch {
        throw expected(`a JSON array of ${p.rowElements} element${p.rowElements === 1 ? '' : 's'}`);
      }
    }
    const values = Array.isArray(value) ? value : ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<unknown>) : [value];
    if (countLeaves(values) !== p.rowElements) throw expected(`${p.rowElements} element${p.rowElements === 1 ? '' : 's'} (shape [${p.rowShape.join(', ')}])`);
    return values;
  }
  const dt = p.datatype;
  if (typeof v === 'string') {
    const text = v.trim();
    if (FLOAT_DATATYPES.has(dt)) {
      if (!DECIMAL_NUMBER.test(text)) throw expected('a number');
      return Number(text);
    }
    if (INTEGER_DATATYPES.has(dt)) {
      if (!DECIMAL_NUMBER.test(text) || !Number.isInteger(Number(text))) throw expected('an integer');
      return Number(text);
    }
    if (dt === 'INT64' || dt === 'UINT64') {
      if (!DECIMAL_INTEGER.test(text)) throw expected('an integer');
      return text.startsWith('+') ? text.slice(1) : text;
    }
    if (dt === 'BOOL') {
      const t = text.toLowerCase();
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
      throw expected('true or false');
    }
    return v; // BYTES
  }
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (dt === 'BOOL' && (v === 0 || v === 1 || v === 0n || v === 1n)) return v === 1 || v === 1n; // SQL has no booleans
    if (dt === 'BYTES') return String(v);
    if ((INTEGER_DATATYPES.has(dt) || dt === 'INT64' || dt === 'UINT64') && typeof v === 'number' && !Number.isInteger(v)) throw expected('an integer');
    if (dt === 'BOOL') throw expected('true or false');
    return v;
  }
  if (typeof v === 'boolean') {
    if (dt !== 'BOOL') throw expected(dt === 'BYTES' ? 'a string' : 'a number');
    return v;
  }
  throw expected(dt === 'BOOL' ? 'true or false' : dt === 'BYTES' ? 'a string' : 'a number');
}

function countLeaves(a: readonly unknown[]): number {
  let n = 0;
  for (const v of a) n += Array.isArray(v) ? countLeaves(v) : 1;
  return n;
}

function preview(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export { RowProblem };
