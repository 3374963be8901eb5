// A request message that protobuf could not decode. grpc-js answers a deserializer that throws
// with INTERNAL ("Error deserializing request"), which blames the server for the client's bytes;
// the inference service's deserializers instead return this marker, and the handlers answer it
// with INVALID_ARGUMENT MALFORMED_REQUEST naming the method and what protobuf said.
import { SibylError } from '@sibyl/protocol';
import type { ServiceDefinition } from '@grpc/grpc-js';

export class MalformedMessage {
  constructor(
    readonly method: string,
    readonly problem: string,
  ) {}

  error(): SibylError {
    return new SibylError('MALFORMED_REQUEST', `the ${this.method} request message is not valid protobuf (${this.problem}); expected a message of proto/grpc_service.proto`);
  }
}

/** Throws the MALFORMED_REQUEST error if `message` is the marker of a message that did not decode. */
export function checkDecoded(message: unknown): void {
  if (message instanceof MalformedMessage) throw message.error();
}

/** `definition` with each method's request deserializer returning a MalformedMessage instead of throwing. */
export function withMalformedMarkers(definition: ServiceDefinition): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    const deserialize = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return deserialize(bytes);
        } catch (err) {
          // protobufjs messages are short ("index out of range: 12 + 10 > 14"); bound them anyway.
          return new MalformedMessage(name, (err instanceof Error ? err.message : String(err)).slice(0, 200));
        }
      },
    };
  }
  return out as ServiceDefinition;
}
