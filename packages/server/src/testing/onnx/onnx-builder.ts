// A fluent builder of small ONNX models for tests and benchmarks: declare inputs, initializers,
// nodes and outputs, then `build()` the bytes of a ModelProto. It checks what a typo would
// break (duplicate names, values that do not fit a shape, domains without an opset import) and
// leaves operator semantics to onnxruntime, which reports them when the session is created.

import { attributeProto } from './attributes.ts';
import type { AttributeValue } from './attributes.ts';
import { parseOnnxProto } from './onnx-proto.ts';
import { ONNX_DATA_TYPE, tensorProto } from './tensor-data.ts';
import type { TensorDatatype, TensorValues } from './tensor-data.ts';

/**
 * A declared dimension: a number is fixed (dim_value), a string is symbolic (dim_param, e.g.
 * 'batch'; equal names mean equal sizes), null is unknown (neither field set).
 */
export type Dim = number | string | null;

export interface OnnxModelBuilderOptions {
  /** Version of the default ONNX operator set (domain ''). Default 17. */
  readonly opset?: number;
  /** ModelProto.ir_version. Default 8 (the IR of ONNX 1.10+, read by every current runtime). */
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly graphName?: string;
  readonly docString?: string;
  /** ModelProto.metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface NodeOptions {
  /** Operator set domain of the op; '' (default) is standard ONNX. Needs an opsetImport. */
  readonly domain?: string;
  /** Node name; default `<op_type>_<index>`. */
  readonly name?: string;
}

type Proto = Record<string, unknown>;

export class OnnxModelBuilder {
  readonly #options: OnnxModelBuilderOptions;
  readonly #opsets = new Map<string, number>();
  readonly #inputs: Proto[] = [];
  readonly #outputs: Proto[] = [];
  readonly #initializers: Proto[] = [];
  readonly #nodes: Proto[] = [];
  readonly #names = new Set<string>(); // graph inputs and initializers: values defined up front

  constructor(options: OnnxModelBuilderOptions = {}) {
    this.#options = options;
    this.#opsets.set('', options.opset ?? 17);
  }

  /** Imports operator set `domain` at `version` (replacing an earlier import of it). */
  opsetImport(domain: string, version: number): this {
    this.#opsets.set(domain, version);
    return this;
  }

  /**
   * Declares a graph input. `shape` undefined means unknown rank; onnxruntime-node reports
   * that as shape [], the same as a scalar, and reports a null dimension as ''.
   */
  input(name: string, datatype: TensorDatatype, shape?: readonly Dim[]): this {
    this.#define(name, 'input');
    this.#inputs.push(valueInfo(name, datatype, shape));
    return this;
  }

  /** Declares a graph output, produced by a node (or an input/initializer passed through). */
  output(name: string, datatype: TensorDatatype, shape?: readonly Dim[]): this {
    if (this.#outputs.some((o) => o['name'] === name)) throw new Error(`output ${name} is declared twice`);
    this.#outputs.push(valueInfo(name, datatype, shape));
    return this;
  }

  /** Adds a constant tensor (stored in raw_data, or string_data for BYTES). */
  initializer(name: string, datatype: TensorDatatype, dims: readonly number[], values: TensorValues): this {
    this.#define(name, 'initializer');
    this.#initializers.push(tensorProto(`initializer ${name}`, name, { datatype, dims, values }));
    return this;
  }

  /**
   * Appends a node; nodes must be added in topological order. An empty string in `inputs`
   * is ONNX's "optional input left out".
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    options: NodeOptions = {},
  ): this {
    this.#nodes.push({
      op_type: opType,
      domain: options.domain ?? '',
      name: options.name ?? `${opType}_${this.#nodes.length}`,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    });
    return this;
  }

  /**
   * The serialized ModelProto, in a plain Uint8Array whose buffer holds nothing else. The
   * builder stays usable; build() again gives equal bytes.
   */
  build(): Uint8Array {
    for (const node of this.#nodes) {
      const domain = node['domain'] as string;
      if (!this.#opsets.has(domain)) {
        throw new Error(`node ${String(node['name'])} uses domain '${domain}' without opsetImport('${domain}', …)`);
      }
    }
    if (this.#outputs.length === 0) throw new Error('a model needs at least one output');
    const types = parseOnnxProto();
    const o = this.#options;
    const model = {
      ir_version: o.irVersion ?? 8,
      producer_name: o.producerName ?? 'sibyl-testing',
      ...(o.docString === undefined ? {} : { doc_string: o.docString }),
      opset_import: [...this.#opsets].map(([domain, version]) => ({ domain, version })),
      metadata_props: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: o.graphName ?? 'graph',
        node: this.#nodes,
        initializer: this.#initializers,
        input: this.#inputs,
        output: this.#outputs,
      },
    };
    // protobufjs returns a Node Buffer, which may be a view into a shared pool: copy into a
    // Uint8Array that owns exactly the model bytes, safe to transfer to a worker.
    return new Uint8Array(types.ModelProto.encode(model).finish());
  }

  #define(name: string, what: string): void {
    if (name === '') throw new Error(`${what} needs a name`);
    if (this.#names.has(name)) throw new Error(`${what} ${name}: the name is already an input or initializer`);
    this.#names.add(name);
  }
}

function valueInfo(name: string, datatype: TensorDatatype, shape: readonly Dim[] | undefined): Proto {
  const dim = shape?.map((d) => {
    if (d === null) return {};
    if (typeof d === 'string') return { dim_param: d };
    if (!Number.isSafeInteger(d) || d < 0) throw new TypeError(`${name}: dimension ${d} is not a size`);
    return { dim_value: d };
  });
  const tensorType = { elem_type: ONNX_DATA_TYPE[datatype], ...(dim ? { shape: { dim } } : {}) };
  return { name, type: { tensor_type: tensorType } };
}
