// The embedded response cache: least recently used entries go first, within an entry limit and
// a byte limit; each entry expires after its TTL.
import type { Tensor } from '@sibyl/protocol';
import type { Clock } from '../core/clock.ts';
import { copyTensor } from '../core/tensor-rows.ts';
import { outputBytes, type ResponseCache } from '../routing/response-cache.ts';

interface Entry {
  outputs: Tensor[];
  bytes: number;
  expiresMs: number;
}

export class MemoryResponseCache implements ResponseCache {
  readonly kind = 'memory';
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly options: { maxEntries: number; maxBytes: number; clock: Clock }) {}

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  async get(key: string): Promise<Tensor[] | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresMs <= this.options.clock.now()) {
      this.drop(key, entry);
      return undefined;
    }
    // Most recently used goes last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.outputs;
  }

  async set(key: string, outputs: readonly Tensor[], ttlMs: number): Promise<void> {
    const copies = outputs.map(copyTensor); // compact: never a view into a larger batch buffer
    const bytes = outputBytes(copies) + key.length;
    if (bytes > this.options.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) this.drop(key, old);
    this.entries.set(key, { outputs: copies, bytes, expiresMs: this.options.clock.now() + ttlMs });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.drop(k, e);
    }
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }
}
