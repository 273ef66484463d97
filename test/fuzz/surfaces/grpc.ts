// Both gRPC services over a real socket: raw bytes as any method's request, and well-typed
// requests with absurd values. Every call gets a clear status (never INTERNAL or UNKNOWN, a bounded
// message) within its deadline, the servers keep serving, and the tuning log stays as it was.
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { AgentServiceService, CancelRequest, MeasureRequest } from '../../../proto/flexfarm/v1/agent.ts';
import { CoordinatorServiceService, GetCampaignRequest, SubmitCampaignRequest, SubmitCampaignResponse } from '../../../proto/flexfarm/v1/coordinator.ts';
import { defineWorkload, opNames } from '../../../tensor/ops/registry.ts';
import { absurdNumber, absurdString, jsonText } from '../absurd.ts';
import { checkProperty, type FuzzSurface } from '../fuzz-run.ts';
import { checkOutcome, clientFor, rawCall, rawStream, startGrpcPeers, type GrpcPeers } from './grpc-peers.ts';

const agentPaths = Object.values(AgentServiceService).map((m) => m.path);
const coordinatorPaths = Object.values(CoordinatorServiceService).map((m) => m.path);
const WATCH = CoordinatorServiceService.watchCampaign.path;

const bytes = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(0), new Uint8Array(2 * 1024 * 1024), Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(s)) },
);
const uint32 = fc.oneof(fc.constantFrom(0, 1, 2, 1000, 1001, 65_535, 2 ** 31, 4_294_967_295), fc.nat());
const double = fc.oneof(absurdNumber, fc.double());
const text = fc.oneof({ weight: 3, arbitrary: absurdString }, { weight: 1, arbitrary: fc.constantFrom('sim', 'cpu', 'gpu', 'fpga', 'c1', 'c1/sim/0') });
const workload = defineWorkload('gemm', { M: 16, N: 16, K: 16 }).key;

const protocol = fc.record({ repeat: uint32, minRepeatMs: double, buildTimeoutMs: double, runTimeoutMs: double });
const candidate = fc.record({
  id: fc.oneof(text, fc.nat().map((n) => `c1/sim/${n}`)), campaign: fc.oneof(text, fc.constant('c1')),
  workload: fc.oneof(text, fc.constant(workload)), target: text, configJson: fc.oneof(jsonText({ 'split.m': [1, 1, 4, 4] }), fc.constant('{}')),
});
const measure = fc.record({ candidates: fc.array(candidate, { maxLength: 4 }), protocol: fc.option(protocol) })
  .map((r) => MeasureRequest.encode({ candidates: r.candidates, protocol: r.protocol ?? undefined }).finish());
const cancel = fc.record({ campaign: text, candidateIds: fc.array(text, { maxLength: 5 }) }).map((r) => CancelRequest.encode(r).finish());
const submit = fc.record({
  op: fc.oneof(fc.constantFrom(...opNames()), text),
  shape: fc.dictionary(fc.oneof(fc.constantFrom('M', 'N', 'K', 'C', 'H', 'W', 'R', 'S', 'stride', 'pad'), absurdString.filter((s) => s.length < 100)),
    fc.oneof(fc.integer({ min: -3, max: 64 }), fc.integer())),
  targets: fc.array(text, { maxLength: 4 }), trials: uint32, explorer: fc.oneof(text, fc.constantFrom('random', 'grid', 'model', 'q', 'flextensor')),
  seed: fc.option(uint32, { nil: undefined }), protocol: fc.option(protocol, { nil: undefined }),
  remeasure: fc.option(uint32, { nil: undefined }), remeasureRounds: fc.option(uint32, { nil: undefined }),
}).map((r) => SubmitCampaignRequest.encode(r).finish());
const byId = fc.record({ id: fc.oneof(text, fc.constant('')) }).map((r) => GetCampaignRequest.encode(r).finish());

type Call = { service: 'agent' | 'coordinator'; path: string; body: Uint8Array };
const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ service: fc.constant('agent' as const), path: fc.constantFrom(...agentPaths), body: bytes }),
  fc.record({ service: fc.constant('coordinator' as const), path: fc.constantFrom(...coordinatorPaths), body: bytes }),
  fc.record({ service: fc.constant('agent' as const), path: fc.constant(AgentServiceService.measure.path), body: measure }),
  fc.record({ service: fc.constant('agent' as const), path: fc.constant(AgentServiceService.cancel.path), body: cancel }),
  fc.record({ service: fc.constant('coordinator' as const), path: fc.constant(CoordinatorServiceService.submitCampaign.path), body: submit }),
  fc.record({ service: fc.constant('coordinator' as const), path: fc.constantFrom(CoordinatorServiceService.getCampaign.path, CoordinatorServiceService.cancelCampaign.path, WATCH), body: byId }),
);

async function runGrpc(runs: number, options?: { seed?: number }) {
  const peers: GrpcPeers = await startGrpcPeers();
  const agentClient = clientFor(peers.agent.address);
  const coordinatorClient = clientFor(peers.coordinator.address);
  try {
    const outcome = await checkProperty('gRPC services', call, async (c) => {
      const client = c.service === 'agent' ? agentClient : coordinatorClient;
      const body = Buffer.from(c.body);
      const o = c.path === WATCH ? await rawStream(client, c.path, body) : await rawCall(client, c.path, body);
      checkOutcome(`${c.path} with ${body.length} bytes (${body.subarray(0, 40).toString('hex')})`, o);
      // An accepted campaign is cancelled at once: the next submits are not refused for too many.
      if (c.path === CoordinatorServiceService.submitCampaign.path && o.code === status.OK && o.response) {
        const { id } = SubmitCampaignResponse.decode(o.response);
        peers.farm.cancel(id);
      }
    }, runs, options);
    // Both still serve, and nothing recorded before changed.
    checkOutcome('Describe after fuzzing', await rawCall(agentClient, AgentServiceService.describe.path, Buffer.alloc(0)));
    checkOutcome('ListCampaigns after fuzzing', await rawCall(coordinatorClient, CoordinatorServiceService.listCampaigns.path, Buffer.alloc(0)));
    const after = readFileSync(peers.recordsPath);
    if (!after.subarray(0, peers.recordsBefore.length).equals(peers.recordsBefore)) throw new Error('the tuning log\'s earlier lines changed');
    return outcome;
  } finally {
    agentClient.close();
    coordinatorClient.close();
    await peers.close();
  }
}

export const grpcSurface: FuzzSurface = { name: 'gRPC services', run: runGrpc };
