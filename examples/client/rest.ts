// Classify three iris flowers over REST with @sibyl/client (the same code runs in a browser).
// Start the server first (`npm start`), then: npx tsx examples/client/rest.ts [http://127.0.0.1:8000]
import { ClientError, SibylClient, outputOf } from '@sibyl/client';

const SPECIES = ['setosa', 'versicolor', 'virginica'];
const flowers = [
  [5.1, 3.4, 1.5, 0.2],
  [7.0, 3.2, 4.7, 1.4],
  [6.3, 3.4, 5.6, 2.4],
];

const client = SibylClient.rest(process.argv[2] ?? 'http://127.0.0.1:8000', {
  timeoutMs: 2000, // every call, retries included
  retry: { maxAttempts: 4, initialBackoffMs: 100 }, // on UNAVAILABLE and RESOURCE_EXHAUSTED, honouring Retry-After
});

console.log('ready:', await client.modelReady('iris'));
const response = await client.infer('iris', {
  inputs: [{ name: 'features', datatype: 'FP32', shape: [flowers.length, 4], data: new Float32Array(flowers.flat()) }],
});
const probabilities = outputOf(response, 'probabilities', 'FP32').data; // a Float32Array
flowers.forEach((flower, row) => {
  const p = Array.from(probabilities.subarray(row * 3, row * 3 + 3));
  const best = p.indexOf(Math.max(...p));
  console.log(`${flower.join(' × ')} cm → ${SPECIES[best]} (p = ${p[best]!.toFixed(4)})`);
});

// Errors carry the shared code and Sibyl's reason.
try {
  await client.infer('iris', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }] });
} catch (err) {
  if (!(err instanceof ClientError)) throw err;
  console.log(`refused: ${err.code} ${err.reason}: ${err.message}`);
}
