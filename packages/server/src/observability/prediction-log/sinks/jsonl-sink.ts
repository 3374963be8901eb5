// A prediction sink that appends one JSON record per line to a file, for shipping with any log
// collector. Queries and retention read the whole file: fine for audits and small volumes; use
// sqlite or postgres to query large logs. Operations run one at a time, in order.
import { createReadStream } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { PredictionQuery, PredictionRecord, PredictionSink } from '../record.ts';

export class JsonlSink implements PredictionSink {
  readonly name: string;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
  ) {
    this.name = `jsonl:${path}`;
  }

  /** Opens (creating if needed) the file for appending. @throws Error when it cannot be opened. */
  static async create(path: string): Promise<JsonlSink> {
    try {
      return new JsonlSink(path, await open(path, 'a', 0o600));
    } catch (err) {
      throw new Error(`cannot open the JSON Lines prediction log ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Appends the records, all or none: a write cut short (a full disk writes part of the text and
   * then fails) is truncated away, so the file always ends at a line boundary and a record is
   * never half written nor glued to the next batch's first line.
   */
  write(records: readonly PredictionRecord[]): Promise<void> {
    return this.serial(async () => {
      let text = '';
      for (const r of records) text += `${JSON.stringify(r)}\n`;
      const bytes = Buffer.from(text, 'utf8');
      const before = (await this.handle.stat()).size;
      try {
        // write() may write less than asked (ENOSPC after a part): go on until all is written or
        // it fails.
        for (let offset = 0; offset < bytes.length; ) {
          const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset);
          if (bytesWritten === 0) throw new Error(`wrote 0 of ${bytes.length - offset} bytes (no space left on device?)`);
          offset += bytesWritten;
        }
        await this.handle.datasync();
      } catch (err) {
        await this.handle.truncate(before).catch(() => undefined);
        throw err;
      }
    });
  }

  query(query: PredictionQuery): Promise<PredictionRecord[]> {
    return this.serial(async () => {
      const out: PredictionRecord[] = [];
      const untilMs = query.untilMs ?? Number.POSITIVE_INFINITY;
      await this.eachRecord((r) => {
        if (r.model === query.model && r.timeMs >= query.sinceMs && r.timeMs < untilMs && (query.version === undefined || r.version === query.version)) out.push(r);
      });
      // Appended in the order answers were ready, which is time order within one writer.
      out.sort((a, b) => a.timeMs - b.timeMs);
      return out.slice(0, query.limit);
    });
  }

  deleteBefore(model: string, beforeMs: number): Promise<number> {
    return this.serial(async () => {
      const kept: string[] = [];
      let deleted = 0;
      await this.eachRecord((r, line) => {
        if (r.model === model && r.timeMs < beforeMs) deleted++;
        else kept.push(line);
      });
      if (deleted === 0) return 0;
      const temporary = `${this.path}.rewrite`;
      const out = await open(temporary, 'w', 0o600);
      try {
        await out.write(kept.length === 0 ? '' : `${kept.join('\n')}\n`);
        await out.datasync();
      } finally {
        await out.close();
      }
      await this.handle.close();
      await rename(temporary, this.path);
      this.handle = await open(this.path, 'a', 0o600);
      return deleted;
    });
  }

  close(): Promise<void> {
    if (this.closed) return this.tail.then(() => undefined);
    this.closed = true;
    return this.serial(() => this.handle.close(), true);
  }

  private async eachRecord(fn: (record: PredictionRecord, line: string) => void): Promise<void> {
    const lines = createInterface({ input: createReadStream(this.path, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      fn(JSON.parse(line) as PredictionRecord, line);
    }
  }

  private serial<T>(fn: () => Promise<T>, closing = false): Promise<T> {
    if (this.closed && !closing) return Promise.reject(new Error(`${this.name} is closed`));
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
