// The agent's gRPC server: AgentService (Describe, Measure, Cancel) and grpc.health.v1 over one
// Agent. Bad requests get a status code and a message naming the field; the server keeps serving.
import os from 'node:os';
import { Server, status, type sendUnaryData, type ServerCredentials, type ServerUnaryCall } from '@grpc/grpc-js';
import {
  AgentServiceService, type AgentDescription, type AgentServiceServer, type CancelRequest, type CancelResponse,
  type DescribeRequest, type MeasureRequest, type MeasureResponse,
} from '../proto/flexfarm/v1/agent.ts';
import { AgentCallError } from '../contracts/agent-call-error.ts';
import { FlexfarmError } from '../contracts/errors.ts';
import { listenFailureMessage } from '../contracts/listen-failure.ts';
import { LIMITS } from '../contracts/messages/limits.ts';
import { prepareServerAuth, type ServerSecurityOptions } from '../contracts/security/server-setup.ts';
import { statusOfAgentCall } from '../proto/agent-call-status.ts';
import { grpcError } from '../proto/grpc-status.ts';
import { HealthService, HealthStatus } from '../proto/health-service.ts';
import { withMalformedRequestCheck } from '../proto/malformed-requests.ts';
import { candidateFromWire, deviceToWire, protocolFromWire, WireError } from '../proto/wire.ts';
import { Agent, type AgentOptions } from './agent.ts';

export const AGENT_SERVICE_NAME = 'flexfarm.v1.AgentService';
/** Largest request accepted; a bigger one is refused with RESOURCE_EXHAUSTED by grpc-js. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** `security`, `insecure`, `authRefused`: contracts/security/server-setup.ts. */
export interface AgentServerOptions extends Omit<AgentOptions, 'address'>, Omit<ServerSecurityOptions, 'log'> {
  /** host:port to bind; port 0 picks a free one. */
  listen: string;
  /** host:port the coordinator should dial; default: the bound address (the hostname when bound to 0.0.0.0). */
  advertise?: string;
  maxMessageBytes?: number;
}

export class ListenError extends FlexfarmError {
  override name = 'ListenError';
  readonly code = 'LISTEN';
}

export class AgentServer {
  private readonly health = new HealthStatus([AGENT_SERVICE_NAME]);

  private constructor(readonly agent: Agent, private readonly server: Server) {}

  get address(): string { return this.agent.address; }

  static async start(options: AgentServerOptions): Promise<AgentServer> {
    const auth = prepareServerAuth(options);
    const agent = new Agent(options);
    const server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      interceptors: auth.interceptors,
    });
    const self = new AgentServer(agent, server);
    server.addService(...withMalformedRequestCheck(AgentServiceService, self.implementation()));
    server.addService(HealthService, self.health.implementation());
    const port = await bind(server, options.listen, auth.credentials);
    const host = options.listen.slice(0, options.listen.lastIndexOf(':'));
    agent.address = options.advertise ?? `${host === '0.0.0.0' || host === '[::]' ? os.hostname() : host}:${port}`;
    agent.start();
    return self;
  }

  /** Graceful: NOT_SERVING, goodbye heartbeat, finish what is being measured (up to drainMs), close. */
  async stop(drainMs = 10_000): Promise<void> {
    this.health.shutdown();
    await this.agent.stop(drainMs);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.server.forceShutdown(); resolve(); }, 500);
      this.server.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
  }

  describe(): AgentDescription {
    const h = this.agent.heartbeat();
    return {
      name: h.name, address: h.address, device: deviceToWire(h.device), capacity: h.capacity, load: h.load,
      startedAt: h.startedAt, heldIds: h.held, maxBatch: h.maxBatch,
    };
  }

  private implementation(): AgentServiceServer {
    return {
      describe: (_call: ServerUnaryCall<DescribeRequest, AgentDescription>, callback: sendUnaryData<AgentDescription>) => {
        callback(null, this.describe());
      },
      measure: (call: ServerUnaryCall<MeasureRequest, MeasureResponse>, callback: sendUnaryData<MeasureResponse>) => {
        try {
          const request = call.request;
          if (!request.candidates.length) throw new WireError('candidates', 'is empty: send at least one candidate');
          const candidates = request.candidates.map((c, i) => candidateFromWire(c, `candidates[${i}]`));
          const protocol = protocolFromWire(request.protocol, this.agent.defaultProtocol);
          callback(null, this.agent.measure(candidates, protocol));
        } catch (err) {
          callback(toStatus(err));
        }
      },
      cancel: (call: ServerUnaryCall<CancelRequest, CancelResponse>, callback: sendUnaryData<CancelResponse>) => {
        const { campaign, candidateIds } = call.request;
        if (!campaign && !candidateIds.length) {
          callback(grpcError(status.INVALID_ARGUMENT, 'cancel needs a campaign or candidate_ids'));
          return;
        }
        if (candidateIds.length > LIMITS.cancelIds) {
          callback(grpcError(status.INVALID_ARGUMENT, `candidate_ids: ${candidateIds.length} ids (at most ${LIMITS.cancelIds})`));
          return;
        }
        callback(null, { cancelled: this.agent.cancel({ campaign: campaign || undefined, ids: candidateIds }) });
      },
    };
  }
}

function toStatus(err: unknown) {
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof WireError) return grpcError(status.INVALID_ARGUMENT, message);
  if (err instanceof AgentCallError) return grpcError(statusOfAgentCall(err.code), message);
  return grpcError(status.INTERNAL, message);
}

function bind(server: Server, listen: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(listen, credentials, (err, port) => {
      if (err) reject(new ListenError(listenFailureMessage(listen, err), { cause: err }));
      else resolve(port);
    });
  });
}
