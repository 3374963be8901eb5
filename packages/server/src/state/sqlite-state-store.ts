// The embedded state store: one SQLite file (WAL journal, so a crash never leaves half a write).
// ':memory:' keeps the state in memory only, for tests and throwaway servers.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StateSnapshot, StateStore } from './state-store.ts';

interface Row {
  namespace: string;
  key: string;
  value: string;
}

export class SqliteStateStore implements StateStore {
  private constructor(
    private readonly db: Database.Database,
    /** The file, or ':memory:'. */
    readonly location: string,
  ) {}

  /**
   * Opens (creating the file and its folder if needed) the store at `file`.
   * @throws Error naming the file when it cannot be opened or is not a Sibyl state store.
   */
  static async open(file: string): Promise<SqliteStateStore> {
    const memory = file === ':memory:';
    const location = memory ? file : path.resolve(file);
    let db: Database.Database;
    try {
      if (!memory) mkdirSync(path.dirname(location), { recursive: true });
      db = new Database(location);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.exec('CREATE TABLE IF NOT EXISTS sibyl_state (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (namespace, key))');
    } catch (err) {
      throw new Error(`cannot open the state store ${location}: ${(err as Error).message}`, { cause: err });
    }
    return new SqliteStateStore(db, location);
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    const row = this.db.prepare('SELECT value FROM sibyl_state WHERE namespace = ? AND key = ?').get(namespace, key) as Pick<Row, 'value'> | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  async list<T>(namespace: string): Promise<Map<string, T>> {
    const rows = this.db.prepare('SELECT key, value FROM sibyl_state WHERE namespace = ? ORDER BY key').all(namespace) as Pick<Row, 'key' | 'value'>[];
    return new Map(rows.map((r) => [r.key, JSON.parse(r.value) as T]));
  }

  async put(namespace: string, key: string, value: unknown): Promise<void> {
    this.db
      .prepare('INSERT INTO sibyl_state (namespace, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(namespace, key, JSON.stringify(value), Date.now());
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM sibyl_state WHERE namespace = ? AND key = ?').run(namespace, key).changes > 0;
  }

  async export(): Promise<StateSnapshot> {
    const entries: StateSnapshot['entries'] = {};
    for (const row of this.db.prepare('SELECT namespace, key, value FROM sibyl_state ORDER BY namespace, key').all() as Row[]) {
      (entries[row.namespace] ??= {})[row.key] = JSON.parse(row.value) as unknown;
    }
    return { format: 'sibyl-state', formatVersion: 1, exportedAt: new Date().toISOString(), entries };
  }

  async import(snapshot: StateSnapshot): Promise<void> {
    const insert = this.db.prepare('INSERT INTO sibyl_state (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)');
    const now = Date.now();
    this.db.transaction(() => {
      this.db.exec('DELETE FROM sibyl_state');
      for (const [namespace, keys] of Object.entries(snapshot.entries)) {
        for (const [key, value] of Object.entries(keys)) insert.run(namespace, key, JSON.stringify(value), now);
      }
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
