// A small promise-based client of CoordinatorService for the commands, with errors a user can read.
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { CoordinatorServiceClient, type CampaignEvent } from '../proto/flexfarm/v1/coordinator.ts';
import { isServiceError } from '../proto/grpc-status.ts';

export class CoordinatorCallError extends Error {
  override name = 'CoordinatorCallError';
  constructor(readonly code: status, message: string) {
    super(message);
  }
}

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res: Res) => void) => unknown;

export class CoordinatorClient {
  private readonly client: CoordinatorServiceClient;

  constructor(readonly address: string, private readonly timeoutMs = 10_000) {
    this.client = new CoordinatorServiceClient(address, credentials.createInsecure());
  }

  call<Req, Res>(method: keyof CoordinatorServiceClient & string, request: Req): Promise<Res> {
    const fn = (this.client[method] as unknown as Unary<Req, Res>).bind(this.client);
    return new Promise((resolve, reject) => {
      fn(request, new Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => (err ? reject(this.explain(err)) : resolve(res)));
    });
  }

  /** Calls `onEvent` for each event until the stream ends; rejects on a stream error. */
  watch(id: string, onEvent: (event: CampaignEvent) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = this.client.watchCampaign({ id });
      stream.on('data', onEvent);
      stream.on('end', () => resolve());
      stream.on('error', (err: ServiceError) => reject(this.explain(err)));
    });
  }

  close(): void {
    this.client.close();
  }

  private explain(err: unknown): Error {
    if (!isServiceError(err)) return err as Error;
    if (err.code === status.UNAVAILABLE) return new CoordinatorCallError(err.code, `cannot reach the coordinator at ${this.address} (${err.details})`);
    if (err.code === status.DEADLINE_EXCEEDED) return new CoordinatorCallError(err.code, `the coordinator at ${this.address} did not answer within ${this.timeoutMs} ms`);
    return new CoordinatorCallError(err.code, `${status[err.code]}: ${err.details}`);
  }
}

/** --coordinator flag, else FLEXFARM_COORDINATOR, else the default port on this host. */
export function coordinatorAddress(flag: string | undefined): string {
  return flag ?? process.env.FLEXFARM_COORDINATOR ?? '127.0.0.1:7000';
}
