// The BatchSource a job's spec names.
import type { BatchJob } from '../../config/batch-job-config.ts';
import type { BatchSource } from '../source.ts';
import { CsvSource } from './csv-source.ts';
import { JsonlSource } from './jsonl-source.ts';
import { ParquetSource } from './parquet-source.ts';
import { PostgresQuerySource, SqliteQuerySource } from './sql-source.ts';

/** The columns a job reads: its key columns, then its input columns. */
export function columnsOf(job: Pick<BatchJob, 'key' | 'inputs'>): string[] {
  const out = new Set<string>(job.key);
  for (const m of job.inputs) for (const c of 'columns' in m ? m.columns : [m.column]) out.add(c);
  return [...out];
}

/** `textColumns`: columns a CSV source keeps as text (keys, BYTES inputs); default the key columns. */
export function openSource(job: Pick<BatchJob, 'source' | 'key' | 'inputs' | 'maxRecordBytes' | 'maxRowGroupBytes'>, textColumns: readonly string[] = job.key): BatchSource {
  const s = job.source;
  const limit = job.maxRecordBytes === undefined ? {} : { maxRecordBytes: job.maxRecordBytes };
  switch (s.kind) {
    case 'csv':
      return CsvSource.create(s.path, { columns: columnsOf(job), textColumns, ...limit });
    case 'jsonl':
      return JsonlSource.create(s.path, limit);
    case 'parquet':
      return ParquetSource.create(s.path, columnsOf(job), job.maxRowGroupBytes === undefined ? {} : { maxRowGroupBytes: job.maxRowGroupBytes });
    case 'sqlite':
      return SqliteQuerySource.create(s.path, s.query, { ...limit, ...(s.connection === undefined ? {} : { connection: s.connection }) });
    case 'postgres':
      return PostgresQuerySource.create(s.url, s.query, {
        ...limit,
        ...(s.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: s.connectTimeoutMs }),
        ...(s.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: s.queryTimeoutMs }),
        ...(s.connection === undefined ? {} : { connection: s.connection }),
      });
  }
}
