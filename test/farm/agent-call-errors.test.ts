// The dispatcher drops or retries a failed Measure call the same way whether the agent is reached
// over gRPC or in-process: the same real agent, behind a GrpcAgentClient and a LocalAgentClient,
// refuses work (another device kind, an oversized batch) and is stopping. A refusal gRPC would
// drop must be dropped in embedded mode too, never requeued with backoff.
import { afterAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { SimBackend } from '../../agent/backends/sim/sim-backend.ts';
import { AgentServer } from '../../agent/server.ts';
import { AGENT_CALL_CODES, AgentCallError } from '../../contracts/agent-call-error.ts';
import type { AgentHeartbeat } from '../../contracts/bus.ts';
import { MemoryBus } from '../../contracts/bus-memory.ts';
import type { RequeueReason } from '../../contracts/requeue-reason.ts';
import type { Candidate, TargetKind } from '../../contracts/result.ts';
import { GrpcAgentClient, LocalAgentClient, type AgentClient } from '../../coordinator/farm/agent-client.ts';
import { Dispatcher } from '../../coordinator/farm/dispatcher.ts';
import { AgentRegistry } from '../../coordinator/farm/registry.ts';
import { agentCallCodeOf, agentCallErrorFromGrpc, statusOfAgentCall } from '../../proto/agent-call-status.ts';
import { grpcError } from '../../proto/grpc-status.ts';

const PROTOCOL = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 10_000, runTimeoutMs: 10_000 };
const bus = new MemoryBus();
const servers: AgentServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop(0);
  await bus.close();
});

/** A sim agent that takes batches of two at most, served over gRPC (its Agent is also used in-process). */
async function startAgent(name: string): Promise<AgentServer> {
  const server = await AgentServer.start({ name, listen: '127.0.0.1:0', backend: new SimBackend({ seed: 1 }), bus, maxBatch: 2, capacity: 2 });
  servers.push(server);
  return server;
}

type Path = 'grpc' | 'in-process';
const client = (server: AgentServer, path: Path): AgentClient =>
  (path === 'grpc' ? new GrpcAgentClient(server.address) : new LocalAgentClient(server.agent));

interface Outcome { dropped: string[]; requeued: RequeueReason[] }

/** Registers the agent as the heartbeat says (which may claim what the agent is not) and sends `count` candidates. */
async function dispatch(server: AgentServer, path: Path, claim: { kind: TargetKind; maxBatch: number }, count: number): Promise<Outcome> {
  const registry = new AgentRegistry({ lostAfterMs: 60_000, clientFor: () => { throw new Error('static agents only'); } });
  const outcome: Outcome = { dropped: [], requeued: [] };
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => { settle = resolve; });
  const dispatcher = new Dispatcher(registry, {
    inflightTimeoutMs: () => 60_000, backoffMs: 60_000,
    observer: {
      dropped: (c) => { outcome.dropped.push(c.id); if (outcome.dropped.length + outcome.requeued.length === count) settle(); },
      requeued: (_w, reason) => { outcome.requeued.push(reason); if (outcome.dropped.length + outcome.requeued.length === count) settle(); },
    },
  });
  const h = server.agent.heartbeat();
  const claimed: AgentHeartbeat = { ...h, device: { ...h.device, kind: claim.kind }, maxBatch: claim.maxBatch, capacity: claim.maxBatch };
  registry.heartbeat(claimed, path === 'grpc' ? 'static' : 'local', client(server, path));
  const candidates: Candidate[] = Array.from({ length: count }, (_, i) => ({ id: `c/${claim.kind}/${i}`, campaign: 'c', workload: 'w', target: claim.kind, config: {} }));
  dispatcher.enqueue(candidates.map((candidate) => ({ candidate, protocol: PROTOCOL, attempts: 0 })));
  await settled;
  registry.get(h.name)?.client.close();
  return outcome;
}

describe('a failed Measure call is decided on its AgentCallError code, over gRPC and in-process alike', () => {
  for (const path of ['grpc', 'in-process'] as const) {
    it(`${path}: a candidate for another device kind is dropped, not requeued`, async () => {
      const server = await startAgent(`refuser-kind-${path}`);
      const outcome = await dispatch(server, path, { kind: 'cpu', maxBatch: 2 }, 2);
      expect(outcome).toEqual({ dropped: ['c/cpu/0', 'c/cpu/1'], requeued: [] });
    });

    it(`${path}: a batch over the agent's max_batch is dropped, not requeued`, async () => {
      const server = await startAgent(`refuser-batch-${path}`);
      const outcome = await dispatch(server, path, { kind: 'sim', maxBatch: 3 }, 3);
      expect(outcome).toEqual({ dropped: ['c/sim/0', 'c/sim/1', 'c/sim/2'], requeued: [] });
    });

    it(`${path}: an agent that is stopping gets the work back in the queue (call_failed)`, async () => {
      const server = await startAgent(`stopping-${path}`);
      await server.agent.stop(0);
      const outcome = await dispatch(server, path, { kind: 'sim', maxBatch: 2 }, 1);
      expect(outcome).toEqual({ dropped: [], requeued: [{ cause: 'call_failed', agent: `stopping-${path}` }] });
    });
  }

  it('the gRPC status of every code maps back to that code; other statuses are INTERNAL', () => {
    for (const code of AGENT_CALL_CODES) expect(agentCallCodeOf(statusOfAgentCall(code))).toBe(code);
    expect(agentCallCodeOf(status.CANCELLED)).toBe('INTERNAL');
    const failure = agentCallErrorFromGrpc(grpcError(status.FAILED_PRECONDITION, '9 FAILED_PRECONDITION: no'));
    expect(failure).toBeInstanceOf(AgentCallError);
    expect([failure.code, failure.message]).toEqual(['REFUSED', '9 FAILED_PRECONDITION: no']);
  });
});
