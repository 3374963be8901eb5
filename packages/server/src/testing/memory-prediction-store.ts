// A PredictionStore in memory, for tests: the behaviour of the real adapters (it passes the same
// contract suite) without a file. Everything is copied in and out, like a database would.
import type { BatchJobRecord, PredictionStore, StoredPrediction } from '../batch/prediction-store.ts';

export class MemoryPredictionStore implements PredictionStore {
  /** model → key → prediction. */
  private readonly predictions = new Map<string, Map<string, StoredPrediction>>();
  private readonly chunks = new Map<string, Set<number>>();
  private readonly jobs = new Map<string, BatchJobRecord>();

  static async open(): Promise<MemoryPredictionStore> {
    return new MemoryPredictionStore();
  }

  async commitChunk(jobId: string, chunkIndex: number, predictions: readonly StoredPrediction[]): Promise<void> {
    for (const p of predictions) {
      let byKey = this.predictions.get(p.model);
      if (byKey === undefined) this.predictions.set(p.model, (byKey = new Map()));
      byKey.set(p.key, structuredClone(p));
    }
    let done = this.chunks.get(jobId);
    if (done === undefined) this.chunks.set(jobId, (done = new Set()));
    done.add(chunkIndex);
  }

  async committedChunks(jobId: string): Promise<Set<number>> {
    return new Set(this.chunks.get(jobId));
  }

  async lookup(model: string, keys: readonly string[]): Promise<Map<string, StoredPrediction>> {
    const found = new Map<string, StoredPrediction>();
    const byKey = this.predictions.get(model);
    if (byKey === undefined) return found;
    for (const key of keys) {
      const p = byKey.get(key);
      if (p !== undefined) found.set(key, structuredClone(p));
    }
    return found;
  }

  /** How many predictions are stored (all models). */
  get size(): number {
    let n = 0;
    for (const byKey of this.predictions.values()) n += byKey.size;
    return n;
  }

  async saveJob(record: BatchJobRecord): Promise<void> {
    this.jobs.set(record.id, structuredClone(record));
  }

  async getJob(id: string): Promise<BatchJobRecord | undefined> {
    const job = this.jobs.get(id);
    return job === undefined ? undefined : structuredClone(job);
  }

  async listJobs(options: { limit?: number; name?: string } = {}): Promise<BatchJobRecord[]> {
    const jobs = [...this.jobs.values()].filter((j) => options.name === undefined || j.name === options.name).sort((a, b) => b.createdAtMs - a.createdAtMs);
    return jobs.slice(0, options.limit ?? jobs.length).map((j) => structuredClone(j));
  }

  async close(): Promise<void> {}
}
