// Validates a configuration document against its schema and turns every violation into a
// message that names the source (file, environment variable or flag), the field path, the bad
// value and what is allowed. Startup lists all problems at once; nothing is clamped.
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { preview } from '../core/errors.ts';

export interface ConfigProblem {
  /** `a.b[2].c`, or '' for the document itself. */
  path: string;
  message: string;
}

/** Thrown when a configuration document is invalid; `problems` lists every violation. */
export class ConfigError extends Error {
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `${source}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

type Json = Record<string, unknown>;

/** Renders a JSON pointer (`/a/2/b`) as a field path (`a[2].b`). */
export function fieldPath(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

/** The sub-schema at a JSON pointer into the *value*, following properties and items. */
function schemaAt(schema: Json, pointer: string): Json | undefined {
  let current: Json | undefined = schema;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    if (current === undefined) return undefined;
    const props = current.properties as Record<string, Json> | undefined;
    const patterns = current.patternProperties as Record<string, Json> | undefined;
    if (props !== undefined && Object.hasOwn(props, raw)) current = props[raw];
    else if (current.items !== undefined && /^\d+$/.test(raw)) current = current.items as Json;
    else if (patterns !== undefined) current = Object.entries(patterns).find(([p]) => new RegExp(p).test(raw))?.[1];
    else return undefined;
  }
  return current;
}

/** Literal values of an enum-like schema (a union of constants), or undefined. */
function literals(schema: Json): unknown[] | undefined {
  const options = schema.anyOf as Json[] | undefined;
  if (Array.isArray(schema.enum)) return schema.enum as unknown[];
  if (options === undefined || !options.every((o) => 'const' in o)) return undefined;
  return options.map((o) => o.const);
}

/** Plain-words description of what a schema accepts, for "expected …" in messages. */
export function describeSchema(schema: Json): string {
  const consts = literals(schema);
  if (consts !== undefined) return `one of ${consts.map((c) => JSON.stringify(c)).join(', ')}`;
  if ('const' in schema) return JSON.stringify(schema.const);
  const range = (kind: string): string => {
    const min = schema.minimum as number | undefined;
    const max = schema.maximum as number | undefined;
    if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
    if (min !== undefined) return `${kind} >= ${min}`;
    if (max !== undefined) return `${kind} <= ${max}`;
    return kind;
  };
  switch (schema.type) {
    case 'integer':
      return range('an integer');
    case 'number':
      return range('a number');
    case 'boolean':
      return 'true or false';
    case 'string':
      // A patterned string may say in its title what the pattern accepts ("a host name, …").
      if (typeof schema.pattern === 'string' && typeof schema.title === 'string') return schema.title;
      return schema.minLength === 1 ? 'a non-empty string' : 'a string';
    case 'array': {
      const items = schema.items as Json | undefined;
      const list = (schema.minItems as number | undefined) === undefined || schema.minItems === 0 ? 'a list' : 'a non-empty list';
      if (items === undefined) return list;
      if (items.type === 'object') {
        const props = Object.keys((items.properties as Json | undefined) ?? {});
        return `${list} of mappings${props.length === 0 ? '' : ` with fields ${props.join(', ')}`}`;
      }
      return `${list} of ${describeSchema(items).replace(/^an? /, '')}s`.replace(/ss$/, 's');
    }
    case 'object': {
      const props = Object.keys((schema.properties as Json | undefined) ?? {});
      return props.length === 0 ? 'a mapping' : `a mapping with fields ${props.join(', ')}`;
    }
    default:
      return 'a valid value';
  }
}

function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Json)[raw];
  }
  return current;
}

/** Every problem of `value` against `schema`, one per field, in document order. */
export function checkAgainstSchema(schema: TSchema, value: unknown): ConfigProblem[] {
  const problems = new Map<string, ConfigProblem>();
  for (const error of Value.Errors(schema, value)) {
    const pointer = error.instancePath;
    if (error.keyword === 'boolean') {
      // An unknown field (the `false` schema of additionalProperties). Reported here as well as by
      // the parent's additionalProperties error: TypeBox yields only the first few errors, and a
      // document with many unknown fields may yield nothing else.
      const cut = pointer.lastIndexOf('/');
      const parent = schemaAt(schema as Json, pointer.slice(0, cut));
      const path = fieldPath(pointer);
      problems.set(path, { path, message: `unknown field; allowed fields here: ${Object.keys((parent?.properties as Json | undefined) ?? {}).join(', ')}` });
      continue;
    }
    if (error.keyword === 'additionalProperties') {
      const parent = schemaAt(schema as Json, pointer);
      const allowed = Object.keys((parent?.properties as Json | undefined) ?? {});
      for (const name of (error.params as { additionalProperties: string[] }).additionalProperties) {
        const path = fieldPath(`${pointer}/${name}`);
        problems.set(path, { path, message: `unknown field; allowed fields here: ${allowed.join(', ')}` });
      }
      continue;
    }
    if (error.keyword === 'required') {
      for (const name of (error.params as { requiredProperties: string[] }).requiredProperties ?? []) {
        const path = fieldPath(`${pointer}/${name}`);
        const sub = schemaAt(schema as Json, `${pointer}/${name}`);
        problems.set(path, { path, message: `is required; expected ${sub === undefined ? 'a value' : describeSchema(sub)}` });
      }
      continue;
    }
    const path = fieldPath(pointer);
    if (problems.has(path)) continue;
    const sub = schemaAt(schema as Json, pointer);
    const expected = sub === undefined ? error.message : describeSchema(sub);
    problems.set(path, { path, message: `${preview(valueAt(value, pointer))} is not allowed; expected ${expected}` });
  }
  // Never valid without a problem to say so (TypeBox's error list is capped).
  if (problems.size === 0 && !Value.Check(schema, value)) problems.set('', { path: '', message: 'is not a valid document for this schema' });
  return [...problems.values()];
}

/** Validates and returns the value typed by the schema, or throws ConfigError naming `source`. */
export function validateConfig<T>(schema: TSchema, value: unknown, source: string): T {
  const problems = checkAgainstSchema(schema, value);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return value as T;
}
