// The sources apply the defaults of a job's limits themselves (source-limits.ts imports no config:
// the CSV worker bundles it), so these constants must stay the job schema's defaults.
import { describe, expect, it } from 'vitest';
import { BatchJobSchema } from '../../config/batch-job-config.ts';
import { fieldDefault } from '../../config/schema-defaults.ts';
import { DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_ROW_GROUP_BYTES } from './source-limits.ts';
import { DEFAULT_SQL_CONNECT_TIMEOUT_MS, DEFAULT_SQL_QUERY_TIMEOUT_MS } from './sql-source.ts';

describe("batch sources' defaults", () => {
  it('are the job schema\'s defaults', () => {
    expect(DEFAULT_MAX_RECORD_BYTES).toBe(fieldDefault(BatchJobSchema, 'maxRecordBytes'));
    expect(DEFAULT_MAX_ROW_GROUP_BYTES).toBe(fieldDefault(BatchJobSchema, 'maxRowGroupBytes'));
    expect(DEFAULT_SQL_CONNECT_TIMEOUT_MS).toBe(fieldDefault(BatchJobSchema, 'source.sql.connectTimeoutMs'));
    expect(DEFAULT_SQL_QUERY_TIMEOUT_MS).toBe(fieldDefault(BatchJobSchema, 'source.sql.queryTimeoutMs'));
  });
});
