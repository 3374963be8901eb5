// The gRPC frontend: a grpc-js server with the Open Inference Protocol's GRPCInferenceService
// (proto files from @sibyl/protocol), the standard gRPC health service (grpc.health.v1.Health)
// and server reflection (v1 and v1alpha), so grpcurl and grpc_health_probe work without .proto
// files. Health reports SERVING for the server ('') and for inference.GRPCInferenceService
// exactly when the server is ready.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { GRPC_LOADER_OPTIONS } from '@sibyl/protocol';
import { inferenceHandlers, type GrpcHandlerDeps } from './inference-handlers.ts';
import { withRefusedMarkers } from './refused-message.ts';

export interface GrpcFrontendOptions extends Omit<GrpcHandlerDeps, 'models'> {
  /** Largest message received or sent, in bytes. */
  maxMessageBytes: number;
  /** TLS: the listener's credentials; default insecure (plain HTTP/2). */
  credentials?: ServerCredentials;
}

/** The service name clients and health checks use. */
export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';

function loadDefinitions(): { inference: PackageDefinition; health: PackageDefinition } {
  const protoDir = dirname(fileURLToPath(import.meta.resolve('@sibyl/protocol/proto/grpc_service.proto')));
  const inference = loadSync('grpc_service.proto', { ...GRPC_LOADER_OPTIONS, includeDirs: [protoDir] });
  const health = loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  return { inference, health };
}

export class GrpcFrontend {
  private readonly server: Server;
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING', [INFERENCE_SERVICE]: 'NOT_SERVING' });
  private port: number | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: GrpcFrontendOptions) {
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': options.maxMessageBytes,
    });
    const definitions = loadDefinitions();
    this.server.addService(withRefusedMarkers(definitions.inference[INFERENCE_SERVICE] as ServiceDefinition), inferenceHandlers({ ...options, models: options.core.models }));
    this.health.addToServer(this.server);
    new ReflectionService({ ...definitions.inference, ...definitions.health }).addToServer(this.server);
  }

  /** Binds `host:port` (0: any free port) and resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, this.options.credentials ?? ServerCredentials.createInsecure(), (err, bound) => (err === null ? resolve(bound) : reject(err))),
    );
    this.refreshHealth();
    return this.port;
  }

  /** The bound port, once listening. */
  get boundPort(): number | undefined {
    return this.port;
  }

  /** Sets the health statuses from the server's readiness; call when readiness changes. */
  refreshHealth(): void {
    const status = this.options.isReady() ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(INFERENCE_SERVICE, status);
  }

  /**
   * Stops taking connections and calls (the listener closes; open connections get GOAWAY, so new
   * calls on them fail UNAVAILABLE) and resolves once every call in progress has ended, however
   * long that takes: callers bound the wait (see close). Idempotent.
   */
  stopAccepting(): Promise<void> {
    this.stopping ??= this.port === undefined ? Promise.resolve() : new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    return this.stopping;
  }

  /**
   * Stops accepting calls and waits for those in progress, up to `graceMs`; then cancels the
   * rest. Idempotent.
   */
  async close(graceMs: number): Promise<void> {
    const stopped = this.stopAccepting();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, graceMs));
      void stopped.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.server.forceShutdown();
    this.port = undefined;
  }
}
