// The coordinator's gRPC server: CoordinatorService over a Farm, plus grpc.health.v1. Every bad
// request gets a status code and a message naming what is wrong; the server keeps serving.
import { Server, status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { listenFailureMessage } from '../contracts/listen-failure.ts';
import { isSafeCampaignId, quote } from '../contracts/messages/limits.ts';
import { prepareServerAuth, type ServerSecurityOptions } from '../contracts/security/server-setup.ts';
import type { TimingProtocol } from '../contracts/result.ts';
import type * as pb from '../proto/flexfarm/v1/coordinator.ts';
import { CoordinatorServiceService, type CoordinatorServiceServer } from '../proto/flexfarm/v1/coordinator.ts';
import { grpcError } from '../proto/grpc-status.ts';
import { HealthService, HealthStatus } from '../proto/health-service.ts';
import { withMalformedRequestCheck } from '../proto/malformed-requests.ts';
import { deviceToWire, resultToWire } from '../proto/wire.ts';
import type { CampaignSnapshot } from './campaign.ts';
import { CampaignSpecError } from './campaign-spec.ts';
import { CampaignEndedError, NoAgentError, TooManyCampaignsError, UnknownCampaignError } from './farm/errors.ts';
import type { AgentStatus, Farm } from './farm/farm.ts';

export const COORDINATOR_SERVICE_NAME = 'flexfarm.v1.CoordinatorService';
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** `security`, `insecure`, `authRefused`, `log`: contracts/security/server-setup.ts. */
export interface CoordinatorServerOptions extends ServerSecurityOptions {
  farm: Farm;
  /** host:port; port 0 picks a free one. */
  listen: string;
  /** Requests larger than this are refused with RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
}

export class CoordinatorServer {
  private readonly health = new HealthStatus([COORDINATOR_SERVICE_NAME]);
  private readonly streams = new Set<ServerWritableStream<pb.WatchCampaignRequest, pb.CampaignEvent>>();
  /** host:port actually bound. */
  address = '';

  private constructor(private readonly farm: Farm, private readonly server: Server) {}

  static async start(options: CoordinatorServerOptions): Promise<CoordinatorServer> {
    const auth = prepareServerAuth(options);
    const server = new Server({ 'grpc.max_receive_message_length': options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, interceptors: auth.interceptors });
    const self = new CoordinatorServer(options.farm, server);
    server.addService(...withMalformedRequestCheck(CoordinatorServiceService, self.implementation()));
    server.addService(HealthService, self.health.implementation());
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(options.listen, auth.credentials, (err, p) => {
        if (err) reject(new Error(listenFailureMessage(options.listen, err), { cause: err }));
        else resolve(p);
      });
    });
    self.address = `${options.listen.slice(0, options.listen.lastIndexOf(':'))}:${port}`;
    return self;
  }

  async stop(): Promise<void> {
    this.health.shutdown();
    for (const call of this.streams) call.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.server.forceShutdown(); resolve(); }, 500);
      this.server.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
  }

  private implementation(): CoordinatorServiceServer {
    const unary = <Req, Res>(fn: (request: Req) => Res) => (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      try {
        callback(null, fn(call.request));
      } catch (err) {
        callback(toStatus(err));
      }
    };
    return {
      submitCampaign: unary((r: pb.SubmitCampaignRequest): pb.SubmitCampaignResponse => {
        const snapshot = this.farm.submit({
          op: r.op, shape: r.shape, targets: r.targets, trials: r.trials, explorer: r.explorer || undefined,
          seed: r.seed, protocol: protocolInput(r.protocol),
          ...(r.remeasure !== undefined ? { remeasure: r.remeasure } : {}), ...(r.remeasureRounds ? { remeasureRounds: r.remeasureRounds } : {}),
        });
        return { id: snapshot.id };
      }),
      getCampaign: unary((r: pb.GetCampaignRequest) => campaignToWire(this.farm.get(requireId(r.id)))),
      listCampaigns: unary((): pb.ListCampaignsResponse => ({ campaigns: this.farm.list().map(campaignToWire) })),
      cancelCampaign: unary((r: pb.CancelCampaignRequest) => campaignToWire(this.farm.cancel(requireId(r.id)))),
      listAgents: unary((): pb.ListAgentsResponse => ({ agents: this.farm.agents().map(agentToWire) })),
      watchCampaign: (call: ServerWritableStream<pb.WatchCampaignRequest, pb.CampaignEvent>) => {
        let unsubscribe: (() => void) | undefined;
        let ended = false;
        const finish = () => {
          ended = true;
          unsubscribe?.();
          this.streams.delete(call);
        };
        try {
          requireId(call.request.id);
          this.streams.add(call);
          // The first event comes synchronously, before `unsubscribe` is known.
          unsubscribe = this.farm.watch(call.request.id, (event) => {
            if (ended) return;
            call.write({ campaign: campaignToWire(event.campaign), ...(event.result ? { result: resultToWire(event.result, event.agent) } : {}) });
            if (event.campaign.state !== 'running') {
              finish();
              call.end();
            }
          });
          if (ended) unsubscribe();
        } catch (err) {
          finish();
          call.emit('error', toStatus(err));
          return;
        }
        call.on('cancelled', finish);
      },
    };
  }
}

function requireId(id: string): string {
  if (!id) throw new CampaignSpecError('id', 'is empty');
  if (!isSafeCampaignId(id)) throw new CampaignSpecError('id', `${quote(id)} is not a campaign id (letters, digits, - and _, at most 64)`);
  return id;
}

function protocolInput(p: pb.SubmitCampaignRequest['protocol']): Partial<TimingProtocol> | undefined {
  if (!p) return undefined;
  return { repeat: p.repeat, minRepeatMs: p.minRepeatMs, buildTimeoutMs: p.buildTimeoutMs, runTimeoutMs: p.runTimeoutMs };
}

export function campaignToWire(c: CampaignSnapshot): pb.Campaign {
  return {
    id: c.id, state: c.state, op: c.op, shape: c.shape, workload: c.workload, explorer: c.explorer, seed: c.seed,
    createdAt: c.createdAt, finishedAt: c.finishedAt ?? '', message: c.message ?? '',
    targets: c.targets.map((t) => ({
      target: t.target, budget: t.budget, measured: t.measured, valid: t.valid, queued: t.queued, inFlight: t.inFlight,
      stopReason: t.stopReason ?? '', remeasureDone: t.remeasure?.done ?? 0, remeasureTotal: t.remeasure?.total ?? 0,
      state: t.state, message: t.message ?? '', simulated: Boolean(t.simulated),
      ...(t.yardstick ? {
        yardstick: {
          device: t.yardstick.device, referenceSeconds: t.yardstick.reference?.seconds ?? 0,
          libraryName: t.yardstick.library?.name ?? '', librarySeconds: t.yardstick.library?.seconds ?? 0, libraryMissing: t.yardstick.libraryMissing ?? '',
          peakGflops: t.yardstick.peak?.gflops ?? 0, peakSource: t.yardstick.peak?.source ?? '',
          speedup: t.yardstick.speedup ?? 0, ofLibrary: t.yardstick.ofLibrary ?? 0, ofPeak: t.yardstick.ofPeak ?? 0,
        },
      } : {}),
      ...(t.best ? {
        best: {
          configJson: JSON.stringify(t.best.config), seconds: t.best.seconds, gflops: t.best.gflops, candidateId: t.best.candidateId, agent: t.best.agent,
          remeasured: Boolean(t.best.remeasured), searchSeconds: t.best.remeasured?.searchSeconds ?? 0, remeasureRuns: t.best.remeasured?.runs ?? 0,
        },
      } : {}),
    })),
  };
}

function agentToWire(a: AgentStatus): pb.AgentStatus {
  return {
    name: a.name, address: a.address, kind: a.kind, model: a.model, capacity: a.capacity, inFlight: a.inFlight, state: a.state,
    lastSeenSecondsAgo: a.lastSeenSecondsAgo, measured: a.measured, load: a.load, device: deviceToWire(a.device), source: a.source,
  };
}

function toStatus(err: unknown) {
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof CampaignSpecError) return grpcError(status.INVALID_ARGUMENT, message);
  if (err instanceof UnknownCampaignError) return grpcError(status.NOT_FOUND, message);
  if (err instanceof NoAgentError || err instanceof CampaignEndedError) return grpcError(status.FAILED_PRECONDITION, message);
  if (err instanceof TooManyCampaignsError) return grpcError(status.RESOURCE_EXHAUSTED, message);
  return grpcError(status.INTERNAL, message);
}
