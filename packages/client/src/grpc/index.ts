// @sibyl/client/grpc: the gRPC transport (Node only).
import { SibylClient, type ClientOptions } from '../client.ts';
import { GrpcTransport, type GrpcTransportOptions } from './grpc-transport.ts';

export { GrpcTransport } from './grpc-transport.ts';
export type { GrpcTransportOptions } from './grpc-transport.ts';

/** A client of the server's gRPC endpoint at `target` (host:port, e.g. 127.0.0.1:8001). */
export function grpcClient(target: string, options: ClientOptions & GrpcTransportOptions = {}): SibylClient {
  return new SibylClient(new GrpcTransport(target, options), options);
}
