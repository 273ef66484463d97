// The standard grpc.health.v1 service, shared by the agent and the coordinator servers.
import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus as Serving, type HealthCheckRequest, type HealthCheckResponse, type HealthServer } from './grpc/health/v1/health.ts';
import { grpcError } from './grpc-status.ts';

export { HealthService } from './grpc/health/v1/health.ts';

/** Health of the whole server ('') and of each named service; NOT_FOUND for other names. */
export class HealthStatus {
  private readonly statuses = new Map<string, Serving>();
  private readonly watchers = new Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();

  constructor(services: string[]) {
    for (const name of ['', ...services]) this.statuses.set(name, Serving.SERVING);
  }

  /** Marks every service NOT_SERVING (on shutdown) and tells the watchers. */
  shutdown(): void {
    for (const name of this.statuses.keys()) this.statuses.set(name, Serving.NOT_SERVING);
    for (const call of this.watchers) {
      call.write({ status: Serving.NOT_SERVING });
      call.end();
    }
    this.watchers.clear();
  }

  implementation(): HealthServer {
    return {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) => {
        const s = this.statuses.get(call.request.service);
        if (s === undefined) callback(grpcError(status.NOT_FOUND, `unknown service '${call.request.service}'`));
        else callback(null, { status: s });
      },
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        call.write({ status: this.statuses.get(call.request.service) ?? Serving.SERVICE_UNKNOWN });
        this.watchers.add(call);
        call.on('cancelled', () => this.watchers.delete(call));
      },
    };
  }
}
