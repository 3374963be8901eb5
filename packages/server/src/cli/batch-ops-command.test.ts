// `sibyl batch show` of a queued job says where it waits (issue 13 C1: jobs beyond
// batch.maxRunningJobs wait as queued).
import { describe, expect, it } from 'vitest';
import { jobText } from './batch-ops-command.ts';

const base = { id: 'j1', name: 'nightly', spec: {}, origin: 'api', createdAtMs: 0, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, chunksCommitted: 0 };

describe('jobText', () => {
  it('shows the place of a queued job', () => {
    expect(jobText({ ...base, status: 'queued', queuePosition: 1 })).toContain('  queued    next to start (batch.maxRunningJobs jobs are running)');
    expect(jobText({ ...base, status: 'queued', queuePosition: 3 })).toContain('  queued    number 3 in the queue');
    expect(jobText({ ...base, status: 'succeeded' })).not.toContain('queued ');
  });
});
