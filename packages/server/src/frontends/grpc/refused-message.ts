// A request message refused before it was decoded: bytes that are not protobuf, or an inference
// request over the protocol's limits (checked on the wire bytes, before protobuf materialises
// every element). grpc-js answers a deserializer that throws with INTERNAL ("Error deserializing
// request"), which blames the server for the client's bytes; the inference service's
// deserializers instead return this marker, and the handlers answer it with its error
// (INVALID_ARGUMENT: MALFORMED_REQUEST or REQUEST_LIMIT_EXCEEDED).
import { SibylError, checkGrpcInferRequestWire } from '@sibyl/protocol';
import type { ServiceDefinition } from '@grpc/grpc-js';

export class RefusedMessage {
  constructor(readonly error: SibylError) {}
}

/** Throws the error of a message refused before decoding. */
export function checkDecoded(message: unknown): void {
  if (message instanceof RefusedMessage) throw message.error;
}

/** Methods whose request is a ModelInferRequest. */
const INFER_METHODS = new Set(['ModelInfer', 'ModelStreamInfer']);

/**
 * `definition` with each method's request deserializer returning a RefusedMessage instead of
 * throwing, and inference requests checked against REQUEST_LIMITS before they are decoded.
 */
export function withRefusedMarkers(definition: ServiceDefinition): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    const deserialize = method.requestDeserialize;
    const checkWire = INFER_METHODS.has(name);
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          if (checkWire) checkGrpcInferRequestWire(bytes);
          return deserialize(bytes);
        } catch (err) {
          if (err instanceof SibylError) return new RefusedMessage(err);
          // protobufjs messages are short ("index out of range: 12 + 10 > 14"); bound them anyway.
          const problem = (err instanceof Error ? err.message : String(err)).slice(0, 200);
          return new RefusedMessage(new SibylError('MALFORMED_REQUEST', `the ${name} request message is not valid protobuf (${problem}); expected a message of proto/grpc_service.proto`));
        }
      },
    };
  }
  return out as ServiceDefinition;
}
