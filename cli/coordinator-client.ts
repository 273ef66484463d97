// A small promise-based client of CoordinatorService for the commands, with errors a user can read:
// the coordinator's own message without a gRPC status prefix, and for an address that cannot be
// reached, why (nothing listens there, or it answers HTTP or NATS rather than gRPC).
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { CoordinatorServiceClient, type CampaignEvent } from '../proto/flexfarm/v1/coordinator.ts';
import { isServiceError } from '../proto/grpc-status.ts';
import { probeAddress } from './address-probe.ts';
import { UsageError } from './args.ts';

/** Where `flexfarm campaign …` and `flexfarm agents` look when told nothing. */
export const DEFAULT_COORDINATOR = '127.0.0.1:7000';

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
      fn(request, new Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err) void this.explain(err).then(reject);
        else resolve(res);
      });
    });
  }

  /** Calls `onEvent` for each event until the stream ends; rejects on a stream error. */
  watch(id: string, onEvent: (event: CampaignEvent) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const stream = this.client.watchCampaign({ id });
      stream.on('data', onEvent);
      stream.on('end', () => resolve());
      stream.on('error', (err: ServiceError) => void this.explain(err).then(reject));
    });
  }

  close(): void {
    this.client.close();
  }

  private async explain(err: unknown): Promise<Error> {
    if (!isServiceError(err)) return err as Error;
    if (err.code === status.UNAVAILABLE) return new CoordinatorCallError(err.code, `cannot reach the coordinator at ${this.address}: ${await unreachable(this.address, err.details)}`);
    if (err.code === status.DEADLINE_EXCEEDED) return new CoordinatorCallError(err.code, `the coordinator at ${this.address} did not answer within ${this.timeoutMs} ms`);
    return new CoordinatorCallError(err.code, err.details || status[err.code]);
  }
}

const LISTEN_HINT = `--coordinator takes the coordinator's gRPC address, its --listen (default ${DEFAULT_COORDINATOR})`;

/** Why an address could not be reached, in words. */
async function unreachable(address: string, details: string): Promise<string> {
  const resolution = /^Name resolution failed for target (?:dns:)?(.*)$/.exec(details);
  if (resolution) return `cannot resolve the host name in '${resolution[1]}'`;
  switch (await probeAddress(address)) {
    case 'nats': return `that port answers NATS, not gRPC: it is a nats-server's port; ${LISTEN_HINT}`;
    case 'http': return `that port answers HTTP, not gRPC: it is likely the coordinator's --http port (the live page and /metrics); ${LISTEN_HINT}`;
    case 'refused': return 'connection refused: nothing listens on that port (is the coordinator running? `flexfarm farm up` starts a farm on this machine)';
    default: return cleanDetails(details);
  }
}

/** grpc-js's text without its scaffolding: "No connection established. Last error: X (time). Resolution note: " → X. */
export function cleanDetails(details: string): string {
  const last = /Last error: (?:Error: )?(.*?)(?: \(\d{4}-\d\d-\d\dT[\d:.]+Z\))?\.?(?: Resolution note: .*)?$/.exec(details);
  const text = last ? last[1] : details.replace(/\s*Resolution note:\s*\)?\s*$/, '');
  return text.trim() || 'no connection';
}

/** --coordinator flag, else FLEXFARM_COORDINATOR, else the default port on this host: HOST:PORT,
 *  an `http://` prefix (a URL copied from the page) taken off. */
export function coordinatorAddress(flag: string | undefined): string {
  const given = flag ?? process.env.FLEXFARM_COORDINATOR ?? DEFAULT_COORDINATOR;
  const source = flag !== undefined ? '--coordinator' : 'FLEXFARM_COORDINATOR';
  const address = given.replace(/^http:\/\//, '').replace(/\/$/, '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address);
  if (scheme) throw new UsageError(`${source}: '${given}': a ${scheme[1]}:// address is not understood; give HOST:PORT, the coordinator's gRPC address (its --listen, default ${DEFAULT_COORDINATOR})`);
  if (!/^[^/\s]+:\d+$/.test(address)) throw new UsageError(`${source}: expected HOST:PORT (the coordinator's gRPC address, its --listen), got '${given}'`);
  return address;
}
