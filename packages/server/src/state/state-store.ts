// The state store: what must survive a restart (labels, explicit loads, model states, and later
// endpoints and canary progress), as JSON values under (namespace, key). The embedded default is a
// SQLite file (sqlite-state-store.ts); the interface lets a shared database take its place.
import { SibylError } from '@sibyl/protocol';
import { snapshotEntriesProblems } from './snapshot-schema.ts';

const SNAPSHOT_FIELDS = ['format', 'formatVersion', 'exportedAt', 'entries'];

/** Every entry of a store, as `sibyl snapshot` exports it and `sibyl restore` imports it. */
export interface StateSnapshot {
  format: 'sibyl-state';
  formatVersion: 1;
  /** ISO 8601 time of the export. */
  exportedAt: string;
  /** namespace → key → value. */
  entries: Record<string, Record<string, unknown>>;
}

/**
 * Values are JSON (anything JSON.stringify keeps). Writes are durable when their promise
 * resolves. One process owns a store at a time; the methods may be called concurrently.
 */
export interface StateStore {
  get<T>(namespace: string, key: string): Promise<T | undefined>;
  /** Every key of a namespace with its value, keys in ascending order. */
  list<T>(namespace: string): Promise<Map<string, T>>;
  put(namespace: string, key: string, value: unknown): Promise<void>;
  /** @returns whether the key existed. */
  delete(namespace: string, key: string): Promise<boolean>;
  export(): Promise<StateSnapshot>;
  /** Replaces every entry with the snapshot's, atomically: all or nothing. */
  import(snapshot: StateSnapshot): Promise<void>;
  close(): Promise<void>;
}

/**
 * Checks that a parsed document is a state snapshot.
 * @throws SibylError STATE_INVALID naming `source` and what is wrong.
 */
export function parseStateSnapshot(document: unknown, source: string): StateSnapshot {
  const fail = (what: string): never => {
    throw new SibylError('STATE_INVALID', `${source}: ${what}; expected a snapshot made by 'sibyl snapshot' ({"format":"sibyl-state","formatVersion":1,"entries":{…}})`);
  };
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return fail('not a JSON object');
  const doc = document as Record<string, unknown>;
  if (doc.format !== 'sibyl-state') return fail(`format is ${JSON.stringify(doc.format)}, not "sibyl-state"`);
  if (doc.formatVersion !== 1) return fail(`formatVersion is ${JSON.stringify(doc.formatVersion)}; this server reads version 1`);
  const unknown = Object.keys(doc).filter((k) => !SNAPSHOT_FIELDS.includes(k));
  if (unknown.length > 0) return fail(`${unknown.map((k) => JSON.stringify(k).slice(0, 80)).join(', ')} ${unknown.length === 1 ? 'is not a field' : 'are not fields'} of a snapshot (its fields: ${SNAPSHOT_FIELDS.join(', ')})`);
  if (doc.exportedAt !== undefined && typeof doc.exportedAt !== 'string') return fail(`exportedAt is ${JSON.stringify(doc.exportedAt).slice(0, 60)}; expected an ISO 8601 time`);
  const entries = doc.entries;
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return fail('entries is not an object of namespaces');
  // Known namespaces with values of their shapes only: the first problems, each naming its field.
  const problems = snapshotEntriesProblems(entries);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
    return fail(`${shown.join('; ')}${problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : ''}`);
  }
  return { format: 'sibyl-state', formatVersion: 1, exportedAt: typeof doc.exportedAt === 'string' ? doc.exportedAt : '', entries: entries as StateSnapshot['entries'] };
}
