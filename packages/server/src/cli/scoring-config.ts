// Where `sibyl worker` and `sibyl batch run --distributed` find models and endpoints: --model-repository,
// else the --config file's modelRepository (relative to the file), else the bundled examples; the
// endpoints of the --config file.
import path from 'node:path';
import type { EndpointConfig } from '../config/endpoint-config.ts';
import { compileServer, environmentLayer, flagsLayer, serverConfigDefaults } from '../config/server-config.ts';
import { readYamlFile } from '../config/yaml-file.ts';

/** @throws ConfigError naming the file and field when the --config file is wrong. */
export async function resolveScoringConfig(flags: { modelRepository?: string; config?: string }, exampleRepository: string): Promise<{ modelRepository: string; endpoints: ReadonlyMap<string, EndpointConfig> }> {
  const file = flags.config === undefined ? undefined : { path: flags.config, document: await readYamlFile(flags.config) };
  const { config, endpoints } = compileServer({ defaults: serverConfigDefaults(exampleRepository), file, env: environmentLayer(process.env).layer, flags: flagsLayer({}) });
  const fromFile = (file?.document as { modelRepository?: unknown } | undefined)?.modelRepository;
  const modelRepository =
    flags.modelRepository !== undefined ? path.resolve(flags.modelRepository) : typeof fromFile === 'string' ? path.resolve(path.dirname(flags.config!), config.modelRepository) : exampleRepository;
  return { modelRepository, endpoints };
}
