// How the coordinator talks to one agent: over gRPC (a farm) or by direct calls (embedded mode).
// Either way a failed call rejects with an AgentCallError, whose code the dispatcher decides on.
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ClientChannel } from '../../contracts/security/client-channel.ts';
import { asAgentCallError } from '../../contracts/agent-call-error.ts';
import type { AgentHeartbeat } from '../../contracts/bus.ts';
import type { LocalAgent } from '../../contracts/local-agent.ts';
import type { Candidate, TimingProtocol } from '../../contracts/result.ts';
import { agentCallErrorFromGrpc } from '../../proto/agent-call-status.ts';
import { AgentServiceClient, type AgentDescription } from '../../proto/flexfarm/v1/agent.ts';
import { candidateToWire, deviceFromWire, protocolToWire } from '../../proto/wire.ts';

export interface AgentClient {
  measure(candidates: Candidate[], protocol: TimingProtocol): Promise<{ accepted: number; queued: number }>;
  cancel(filter: { campaign?: string; ids?: string[] }): Promise<number>;
  /** What the agent says about itself, in heartbeat form (static agents are polled with it). */
  describe(): Promise<AgentHeartbeat>;
  close(): void;
}

export class GrpcAgentClient implements AgentClient {
  private readonly client: AgentServiceClient;

  /** `channel`: TLS and the token (contracts/security/client-channel.ts); default plaintext. */
  constructor(readonly address: string, private readonly callTimeoutMs = 10_000, channel?: ClientChannel) {
    this.client = new AgentServiceClient(address, channel?.credentials ?? credentials.createInsecure(), {
      ...channel?.options,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
    });
  }

  measure(candidates: Candidate[], protocol: TimingProtocol): Promise<{ accepted: number; queued: number }> {
    return new Promise((resolve, reject) => {
      this.client.measure(
        { candidates: candidates.map(candidateToWire), protocol: protocolToWire(protocol) },
        new Metadata(), { deadline: Date.now() + this.callTimeoutMs },
        (err, response) => (err ? reject(agentCallErrorFromGrpc(err)) : resolve(response)),
      );
    });
  }

  cancel(filter: { campaign?: string; ids?: string[] }): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.cancel(
        { campaign: filter.campaign ?? '', candidateIds: filter.ids ?? [] },
        new Metadata(), { deadline: Date.now() + this.callTimeoutMs },
        (err, response) => (err ? reject(agentCallErrorFromGrpc(err)) : resolve(response.cancelled)),
      );
    });
  }

  describe(): Promise<AgentHeartbeat> {
    return new Promise((resolve, reject) => {
      this.client.describe({}, new Metadata(), { deadline: Date.now() + this.callTimeoutMs }, (err, response) => {
        if (err) reject(agentCallErrorFromGrpc(err));
        else resolve(heartbeatFromDescription(response, this.address));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

export function heartbeatFromDescription(d: AgentDescription, address: string): AgentHeartbeat {
  return {
    name: d.name, address: d.address || address, device: deviceFromWire(d.device), capacity: d.capacity, maxBatch: d.maxBatch,
    load: d.load ?? { queued: 0, measuring: 0, unpublished: 0 }, held: d.heldIds, startedAt: d.startedAt, intervalMs: 1_000,
  };
}

/** An agent in the same process (embedded mode): the same calls, no network. */
export class LocalAgentClient implements AgentClient {
  constructor(private readonly agent: LocalAgent) {}

  async measure(candidates: Candidate[], protocol: TimingProtocol) {
    return local(() => this.agent.measure(candidates, protocol));
  }

  async cancel(filter: { campaign?: string; ids?: string[] }): Promise<number> {
    return local(() => this.agent.cancel(filter));
  }

  async describe(): Promise<AgentHeartbeat> {
    return local(() => this.agent.heartbeat());
  }

  close(): void {}
}

/** A direct call, its failure as the AgentCallError a gRPC call would reject with. */
function local<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw asAgentCallError(err);
  }
}
