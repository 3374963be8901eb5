// The PostgreSQL prediction sink against the shared contract, on a real server (see postgres.ts).
// Each test uses its own uniquely named table and drops it. Fails, never skips, when the server
// is missing.
import pg from 'pg';
import { PostgresSink } from '../../src/observability/prediction-log/sinks/postgres-sink.ts';
import { describePredictionSinkContract } from '../../src/testing/prediction-sink-contract.ts';
import { POSTGRES_URL } from './postgres.ts';


let n = 0;
describePredictionSinkContract('PostgreSQL', async () => {
  const table = `sibyl_test_predictions_${process.pid}_${Date.now()}_${n++}`;
  const sink = await PostgresSink.create(POSTGRES_URL, table);
  return {
    sink,
    cleanup: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP TABLE IF EXISTS ${table}`);
      } finally {
        await client.end();
      }
    },
  };
});
