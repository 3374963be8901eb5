// The SQLite (default) and JSON Lines prediction sinks against the shared contract, on real
// files in a temporary folder. (PostgreSQL: test/integration/postgres-sink.test.ts.)
import path from 'node:path';
import { JsonlSink } from '../src/observability/prediction-log/sinks/jsonl-sink.ts';
import { SqliteSink } from '../src/observability/prediction-log/sinks/sqlite-sink.ts';
import { describePredictionSinkContract } from '../src/testing/prediction-sink-contract.ts';
import { makeTempDir, removeDir } from '../src/testing/index.ts';

describePredictionSinkContract('SQLite', async () => {
  const dir = await makeTempDir('sibyl-sqlite-sink-');
  return { sink: await SqliteSink.create(path.join(dir, 'predictions.sqlite')), cleanup: () => removeDir(dir) };
});

describePredictionSinkContract('JSON Lines', async () => {
  const dir = await makeTempDir('sibyl-jsonl-sink-');
  return { sink: await JsonlSink.create(path.join(dir, 'predictions.jsonl')), cleanup: () => removeDir(dir) };
});
