// An application that embeds Sibyl: the serving core runs in this process (no `sibyl serve`),
// the application calls infer() directly, and mounts Sibyl's HTTP routes (/v2/..., /metrics, …)
// on its own Fastify instance beside its own routes.
//   npx tsx examples/embedded/app.ts            listens on http://127.0.0.1:3000
//   npx tsx examples/embedded/app.ts --check    answers one request of each kind, then exits
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { createSibyl, SibylError } from '@sibyl/server';

const SPECIES = ['setosa', 'versicolor', 'virginica'];
const check = process.argv.includes('--check');

const sibyl = await createSibyl({
  modelRepository: fileURLToPath(new URL('../models', import.meta.url)),
  // Any sibyl.yaml setting: here, only the iris model, and new versions swapped in as they appear.
  config: { modelControlMode: 'poll', loadModels: ['iris'], repositoryPollIntervalMs: 2000 },
});

/** The application's own logic, calling the model in process (no HTTP hop). */
async function species(flower: number[]): Promise<{ species: string; p: number; version: string }> {
  const response = await sibyl.infer('iris', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: new Float32Array(flower) }] });
  const probabilities = Array.from(response.outputs.find((o) => o.name === 'probabilities')!.data as Float32Array);
  const best = probabilities.indexOf(Math.max(...probabilities));
  return { species: SPECIES[best]!, p: probabilities[best]!, version: response.model_version ?? '' };
}

const app = Fastify();
app.get<{ Querystring: { f?: string } }>('/species', async (request, reply) => {
  const flower = (request.query.f ?? '').split(',').map(Number);
  if (flower.length !== 4 || flower.some((v) => !Number.isFinite(v))) return reply.code(400).send({ error: 'expected ?f=<4 comma-separated numbers>' });
  try {
    return await species(flower);
  } catch (err) {
    if (err instanceof SibylError) return reply.code(503).send({ error: err.message, reason: err.reason });
    throw err;
  }
});
// Sibyl's routes (V2 inference, model control, endpoints, metrics) on the same listener.
await app.register(sibyl.fastifyPlugin);

if (check) {
  console.log('in process:', await species([5.1, 3.4, 1.5, 0.2]));
  console.log('GET /species:', (await app.inject({ method: 'GET', url: '/species?f=6.3,3.4,5.6,2.4' })).json());
  const v2 = await app.inject({
    method: 'POST',
    url: '/v2/models/iris/infer',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [7.0, 3.2, 4.7, 1.4] }] }),
  });
  console.log('POST /v2/models/iris/infer:', v2.statusCode, v2.json().outputs.map((o: { name: string }) => o.name));
  await app.close();
  await sibyl.close();
} else {
  const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
  console.log(`listening on ${address}: try ${address}/species?f=5.1,3.4,1.5,0.2 or POST ${address}/v2/models/iris/infer`);
  const stop = async (): Promise<void> => {
    await app.close(); // stop taking requests first
    await sibyl.close(); // then drain and unload the models
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
