// The HTTP ceiling for the tabular scenario: a bare Fastify server that reads the same V2 JSON
// request body, parses it (JSON.parse, as any server must) and answers a constant V2 response.
// Nothing Sibyl does can be faster than this over HTTP on the same machine.
//
//   npx tsx bench/servers/bare-fastify.ts [port=8200]
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 8200);
const RESPONSE = JSON.stringify({
  model_name: 'tabular_mlp',
  model_version: '1',
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] }],
});
const METADATA = {
  name: 'tabular_mlp',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 32] }],
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
};

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.get('/v2/models/:model', async () => METADATA);
app.post('/v2/models/:model/infer', async (request, reply) => {
  const parsed = JSON.parse((request.body as Buffer).toString('utf8')) as { inputs: unknown[] };
  if (!Array.isArray(parsed.inputs)) return reply.code(400).send({ error: 'no inputs' });
  return reply.type('application/json').send(RESPONSE);
});
await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
