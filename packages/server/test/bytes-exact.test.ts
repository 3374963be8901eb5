// BYTES travel byte for byte: arbitrary bytes (not UTF-8) sent with the binary tensor data
// extension or gRPC (raw_input_contents, bytes_contents) reach the runtime unchanged and come back
// unchanged as binary output (issue 13: `ff fe` came back as `ef bf bd ef bf bd`). The echo
// runtime (testing/echo-runtime.ts) echoes its inputs and carries BYTES as bytes; onnxruntime
// carries them as text, and the refusals for that are tested with the real runtime in grpc.test.ts
// and http-v2.test.ts.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_LOADER_OPTIONS, decodeInferResponseBinary, encodeInferRequestBinary, type BytesElements } from '@sibyl/protocol';
import type { SibylServer } from '../src/server.ts';
import { EchoRuntime, createTestServer, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';

const ELEMENTS = [Uint8Array.from([0xff, 0xfe]), Uint8Array.from([0x00, 0xc3]), new Uint8Array(0), new TextEncoder().encode('héllo')];
const hex = (elements: readonly Uint8Array[]) => elements.map((e) => Buffer.from(e).toString('hex'));

let repo: string;
let server: SibylServer;
let runtime: EchoRuntime;
let client: grpc.Client;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-bytes-');
  await writeModelRepository(repo, { echo: { versions: { 1: new TextEncoder().encode('echo') } } });
  runtime = new EchoRuntime();
  server = await createTestServer(repo, { runtime });
  const port = await server.grpc.listen('127.0.0.1', 0);
  const protoDir = fileURLToPath(new URL('../../protocol/proto/', import.meta.url));
  const definition = grpc.loadPackageDefinition(loadSync('grpc_service.proto', { ...GRPC_LOADER_OPTIONS, includeDirs: [protoDir] })) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  client = new definition.inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.shutdown();
  await removeDir(repo);
});

function lastSeen(): string[] {
  const seen = runtime.instances.flatMap((i) => i.seen);
  return hex(seen[seen.length - 1]!);
}

async function postBinary(binaryOutputs: boolean) {
  const { body, headerLength } = encodeInferRequestBinary({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [ELEMENTS.length], data: ELEMENTS }] }, { binaryOutputs });
  return server.http.inject({
    method: 'POST',
    url: '/v2/models/echo/infer',
    payload: Buffer.from(body),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
  });
}

function modelInfer(request: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: unknown, cb: (e: grpc.ServiceError | null, r: Record<string, unknown>) => void) => void>).ModelInfer!(request, (err, response) =>
      err === null ? resolve(response) : reject(err),
    ),
  );
}

describe('REST with the binary tensor data extension', () => {
  it('carries arbitrary bytes to the runtime and back as binary output, byte for byte', async () => {
    const res = await postBinary(true);
    expect(res.statusCode).toBe(200);
    expect(lastSeen()).toEqual(hex(ELEMENTS));
    const decoded = decodeInferResponseBinary(new Uint8Array(res.rawPayload), Number(res.headers['inference-header-content-length']));
    expect(hex(decoded.outputs[0]!.data as BytesElements)).toEqual(['fffe', '00c3', '', '68c3a96c6c6f']);
  });

  it('refuses to write bytes that are not UTF-8 as JSON output (they would become U+FFFD), naming the output and element and the way out', async () => {
    const res = await postBinary(false);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: 'INVALID_ARGUMENT',
      reason: 'BYTES_NOT_TEXT',
      error: "output 'output' (BYTES) element 0 is not valid UTF-8, so JSON cannot carry it (JSON carries BYTES as text); ask for it as binary data (the binary tensor data extension's binary_data_output, or gRPC)",
    });
  });

  it('writes UTF-8 bytes as JSON strings as before', async () => {
    const res = await server.http.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: { inputs: [{ name: 'input', datatype: 'BYTES', shape: [2], data: ['héllo', ''] }] } });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { outputs: { data: unknown }[] }).outputs[0]!.data).toEqual(['héllo', '']);
  });
});

describe('gRPC', () => {
  it('raw_input_contents in, raw_output_contents out, byte for byte', async () => {
    const raw = Buffer.concat(ELEMENTS.flatMap((e) => [Buffer.from(Uint32Array.of(e.length).buffer), Buffer.from(e)]));
    const response = await modelInfer({ model_name: 'echo', inputs: [{ name: 'input', datatype: 'BYTES', shape: [ELEMENTS.length] }], raw_input_contents: [raw] });
    expect(lastSeen()).toEqual(hex(ELEMENTS));
    expect(Buffer.from((response.raw_output_contents as Uint8Array[])[0]!).equals(raw)).toBe(true);
  });

  it('bytes_contents in, bytes_contents out, byte for byte', async () => {
    const response = await modelInfer({ model_name: 'echo', inputs: [{ name: 'input', datatype: 'BYTES', shape: [ELEMENTS.length], contents: { bytes_contents: ELEMENTS.map((e) => Buffer.from(e)) } }] });
    expect(lastSeen()).toEqual(hex(ELEMENTS));
    const outputs = response.outputs as { contents: { bytes_contents: Uint8Array[] } }[];
    expect(hex(outputs[0]!.contents.bytes_contents)).toEqual(hex(ELEMENTS));
  });
});
