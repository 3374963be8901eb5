// The same over gRPC, with a fallback answer for when the server cannot answer.
// Start the server first (`npm start`), then: npx tsx examples/client/grpc.ts [127.0.0.1:8001]
import { outputOf, type InferResponse } from '@sibyl/client';
import { grpcClient } from '@sibyl/client/grpc';

const client = grpcClient(process.argv[2] ?? '127.0.0.1:8001', { timeoutMs: 2000 });
const request = { inputs: [{ name: 'features', datatype: 'FP32' as const, shape: [1, 4], data: new Float32Array([5.1, 3.4, 1.5, 0.2]) }] };
// Answered when the server is unreachable, overloaded or past the deadline, never for a bad request.
const fallback: InferResponse = { model_name: 'iris', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: new Float32Array([1 / 3, 1 / 3, 1 / 3]) }] };

const metadata = await client.modelMetadata('iris');
console.log(`${metadata.name} v${metadata.versions?.join(',')}: ${metadata.inputs.map((t) => `${t.name} ${t.datatype}[${t.shape.join(',')}]`).join(', ')}`);
const response = await client.infer('iris', request, { fallback: (err) => (console.log(`fallback after ${err.code}`), fallback) });
console.log('probabilities:', Array.from(outputOf(response, 'probabilities', 'FP32').data, (p) => p.toFixed(4)).join(' '));
client.close();
