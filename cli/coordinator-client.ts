// A small promise-based client of CoordinatorService for the commands, with errors a user can read:
// the coordinator's own message without a gRPC status prefix, and for an address that cannot be
// reached, why (nothing listens there, or it answers HTTP or NATS rather than gRPC).
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { clientChannel, type ClientChannel } from '../contracts/security/client-channel.ts';
import { CoordinatorServiceClient, type CampaignEvent } from '../proto/flexfarm/v1/coordinator.ts';
import { isServiceError } from '../proto/grpc-status.ts';
import { probeAddress, speaksTls } from './address-probe.ts';
import { UsageError } from './args.ts';
import { readSecurity } from './security-flags.ts';

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
  private readonly tls: boolean;

  /** `channel`: TLS and the token (contracts/security/client-channel.ts); default plaintext. */
  constructor(readonly address: string, private readonly timeoutMs = 10_000, channel?: ClientChannel) {
    this.client = new CoordinatorServiceClient(address, channel?.credentials ?? credentials.createInsecure(), channel?.options ?? {});
    this.tls = channel?.tls ?? false;
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
      // grpc-js emits 'end' right after 'error', before the error is explained: it must not resolve.
      let failed = false;
      stream.on('data', onEvent);
      stream.on('end', () => { if (!failed) resolve(); });
      stream.on('error', (err: ServiceError) => { failed = true; void this.explain(err).then(reject); });
    });
  }

  close(): void {
    this.client.close();
  }

  private async explain(err: unknown): Promise<Error> {
    if (!isServiceError(err)) return err as Error;
    if (err.code === status.UNAVAILABLE) return new CoordinatorCallError(err.code, `cannot reach the coordinator at ${this.address}: ${await unreachable(this.address, err.details, this.tls)}`);
    if (err.code === status.UNAUTHENTICATED) return new CoordinatorCallError(err.code, `the coordinator at ${this.address} refused the call: ${err.details}`);
    if (err.code === status.DEADLINE_EXCEEDED) return new CoordinatorCallError(err.code, `the coordinator at ${this.address} did not answer within ${this.timeoutMs} ms`);
    return new CoordinatorCallError(err.code, err.details || status[err.code]);
  }
}

const LISTEN_HINT = `--coordinator takes the coordinator's gRPC address, its --listen (default ${DEFAULT_COORDINATOR})`;

/** Why an address could not be reached, in words. */
async function unreachable(address: string, details: string, tls: boolean): Promise<string> {
  const resolution = /^Name resolution failed for target (?:dns:)?(.*)$/.exec(details);
  if (resolution) return `cannot resolve the host name in '${resolution[1]}'`;
  if (tls) {
    const failure = tlsFailure(details, address);
    if (failure) return failure;
  }
  switch (await probeAddress(address)) {
    case 'nats': return `that port answers NATS, not gRPC: it is a nats-server's port; ${LISTEN_HINT}`;
    case 'http': return `that port answers HTTP, not gRPC: it is likely the coordinator's --http port (the live page and /metrics); ${LISTEN_HINT}`;
    case 'refused': return 'connection refused: nothing listens on that port (is the coordinator running? `flexfarm farm up` starts a farm on this machine)';
    default:
      if (!tls && await speaksTls(address)) return 'that port speaks TLS: give the lab CA with --tls-ca FILE (FLEXFARM_TLS_CA), and the token (--token-file FILE or FLEXFARM_TOKEN); README "Security"';
      return cleanDetails(details);
  }
}

/** A TLS handshake's failure, in words; null when `details` is not one. */
function tlsFailure(details: string, address: string): string | null {
  const text = cleanDetails(details);
  if (/wrong version number|packet length too long/i.test(text)) return 'it does not speak TLS there (the coordinator runs without --tls-cert): drop --tls-ca, or give the coordinator TLS';
  if (/self[- ]signed|unable to (?:verify|get local issuer)|certificate signature failure|unknown ca/i.test(text)) return `TLS: its certificate is not signed by the CA given in --tls-ca (${text})`;
  if (/Hostname\/IP does not match|altnames/i.test(text)) return `TLS: its certificate does not name '${address.slice(0, address.lastIndexOf(':'))}' (${text})`;
  if (/certificate/i.test(text)) return `TLS: ${text}`;
  return null;
}

/** grpc-js's text without its scaffolding: "No connection established. Last error: X (time). Resolution note: " → X. */
export function cleanDetails(details: string): string {
  const last = /Last error: (?:Error: )?(.*?)(?: \(\d{4}-\d\d-\d\dT[\d:.]+Z\))?\.?(?: Resolution note: .*)?$/.exec(details);
  const text = last ? last[1] : details.replace(/\s*Resolution note:\s*\)?\s*$/, '');
  return text.trim() || 'no connection';
}

/** A client for the commands: --coordinator and the credential flags, else their variables. */
export function coordinatorClientFor(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): CoordinatorClient {
  const address = coordinatorAddress(values.coordinator as string | undefined);
  return new CoordinatorClient(address, undefined, clientChannel(readSecurity(values, env, 'client')));
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
