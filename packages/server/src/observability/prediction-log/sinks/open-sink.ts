// Opens the sink the server configuration names. Relative file paths are relative to the
// working directory of the server.
import path from 'node:path';
import type { PredictionLogServerConfig } from '../../../config/prediction-log-config.ts';
import type { PredictionSink } from '../record.ts';
import { JsonlSink } from './jsonl-sink.ts';
import { PostgresSink } from './postgres-sink.ts';
import { SqliteSink } from './sqlite-sink.ts';

export function openPredictionSink(config: PredictionLogServerConfig): Promise<PredictionSink> {
  const file = path.resolve(config.path === '' ? `sibyl-predictions.${config.sink}` : config.path);
  switch (config.sink) {
    case 'sqlite':
      return SqliteSink.create(file);
    case 'jsonl':
      return JsonlSink.create(file);
    case 'postgres':
      return PostgresSink.create(config.postgresUrl, config.postgresTable);
  }
}
