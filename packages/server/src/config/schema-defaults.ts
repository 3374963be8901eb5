// Defaults live in one place: the `default` keyword of the config schemas. Code reads them from
// there (these helpers), the generated reference renders them (scripts/generate-docs.ts), and the
// JSON Schemas exported for editors carry them. A default that depends on something else (the
// model file, the machine, another setting) has no `default` keyword: its description says how
// it is found, and the compile step computes it.
import type { TSchema } from 'typebox';

type Json = Record<string, unknown>;

/** The schema at a dotted path of object properties (`dynamicBatching.maxQueueDelayMs`), or undefined. */
function schemaAt(schema: TSchema, path: string): Json | undefined {
  let node = schema as Json | undefined;
  for (const key of path.split('.')) node = (node?.properties as Record<string, Json> | undefined)?.[key];
  return node;
}

/**
 * The `default` a schema declares for the field at `path`. Called when a module loads, so a
 * field without one fails at once, not on the first config that leaves it out.
 * @throws Error when the field does not exist or declares no default (a programming error).
 */
export function fieldDefault<T>(schema: TSchema, path: string): T {
  const node = schemaAt(schema, path);
  if (node === undefined || !('default' in node)) throw new Error(`the config schema declares no default for ${path}`);
  return structuredClone(node.default) as T;
}

/**
 * The defaults of an object schema's required fields: every required property that declares a
 * `default`, and every required object property whose fields do (recursively). An optional
 * field stays absent, as in a document that leaves it out: the code that reads it applies its
 * default (with fieldDefault).
 */
export function schemaDefaults(schema: TSchema): Json {
  const required = new Set(((schema as Json).required ?? []) as string[]);
  const out: Json = {};
  for (const [key, sub] of Object.entries(((schema as Json).properties ?? {}) as Record<string, Json>)) {
    if (!required.has(key)) continue;
    if ('default' in sub) out[key] = structuredClone(sub.default);
    else if (sub.type === 'object' && sub.properties !== undefined) {
      const nested = schemaDefaults(sub as TSchema);
      if (Object.keys(nested).length > 0) out[key] = nested;
    }
  }
  return out;
}

/** Every schema node with a description, with its path: what the reference and the tests read. */
export function describedFields(schema: TSchema, prefix = ''): { path: string; schema: Json }[] {
  const s = schema as Json;
  const own = prefix !== '' && typeof s.description === 'string' ? [{ path: prefix, schema: s }] : [];
  const children: [string, Json][] = [];
  for (const [key, sub] of Object.entries((s.properties ?? {}) as Record<string, Json>)) children.push([prefix === '' ? key : `${prefix}.${key}`, sub]);
  for (const [key, sub] of Object.entries((s.patternProperties ?? {}) as Record<string, Json>)) children.push([`${prefix}.<${key === '^.*$' ? 'name' : key}>`, sub]);
  if (s.items !== undefined && !Array.isArray(s.items)) children.push([`${prefix}[]`, s.items as Json]);
  for (const branch of [...((s.anyOf ?? []) as Json[]), ...((s.oneOf ?? []) as Json[]), ...((s.allOf ?? []) as Json[])]) children.push([prefix, branch]);
  return [...own, ...children.flatMap(([path, sub]) => describedFields(sub as TSchema, path))];
}
