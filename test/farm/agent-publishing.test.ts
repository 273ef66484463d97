// Acceptance (issue 15): a result too large for the bus becomes an error result the agent can
// publish, once, instead of a publish retried every 2 s forever (real nats-server with a small
// max_payload, real NatsBus); an agent whose results wait too long for the bus says so in its
// heartbeats, and the coordinator's registry stops counting it as up.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Agent } from '../../agent/agent.ts';
import { SimBackend } from '../../agent/backends/sim/sim-backend.ts';
import { NatsBus } from '../../contracts/bus-nats.ts';
import type { AgentBus } from '../../contracts/bus.ts';
import type { Candidate, MeasureResult, TimingProtocol } from '../../contracts/result.ts';
import { AgentRegistry } from '../../coordinator/farm/registry.ts';
import { LocalAgentClient } from '../../coordinator/farm/agent-client.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { streamedResults, waitFor } from './farm-processes.ts';

let nats: NatsServer;
const workload = defineWorkload('gemm', { M: 16, N: 16, K: 16 }).key;
const candidate: Candidate = { id: 'cbig/sim/0', campaign: 'cbig', workload, target: 'sim', config: {} };

/** A sim device whose every result carries a compiler's worth of error text. */
class VerboseBackend extends SimBackend {
  override async measure(c: Candidate, p: TimingProtocol): Promise<MeasureResult> {
    const r = await super.measure(c, p);
    return { ...r, seconds: [], median: null, error: { code: 'COMPILE', message: 'error: '.repeat(200_000) } };
  }
}

beforeAll(async () => { nats = await startNatsServer({ config: 'max_payload: 4096\n' }); });
afterAll(async () => { await nats?.dispose(); });

test('a result over the server\'s max_payload is published once as an error result, and nothing stays unpublished', async () => {
  const logs: string[] = [];
  const bus = await NatsBus.connect({ servers: nats.url, log: (l) => logs.push(l) });
  const agent = new Agent({ name: 'sim-verbose', backend: new VerboseBackend(), bus, log: (l) => logs.push(l) });
  try {
    agent.measure([candidate]);
    await waitFor('the result published', () => (agent.load().unpublished === 0 && agent.load().measuring === 0 && agent.load().queued === 0 ? true : undefined), 10_000, 50);
    const streamed = await streamedResults(nats.url, 'cbig');
    expect(streamed).toHaveLength(1);
    expect(streamed[0].result.error).toMatchObject({ code: 'UNKNOWN' });
    expect(streamed[0].result.error!.message).toMatch(/^not published as measured: NATS refused the result of cbig\/sim\/0 \(\d+ bytes\)/);
    expect(logs.filter((l) => /retrying/.test(l))).toEqual([]);
  } finally {
    await agent.stop(1_000);
    await bus.close();
  }
});

test('an agent whose results cannot be published says it is stalled, and the registry takes it out of service', async () => {
  const beats: ReturnType<Agent['heartbeat']>[] = [];
  const stuck: AgentBus = {
    publishResult: () => new Promise(() => {}), // the bus never acknowledges
    publishHeartbeat: (h) => { beats.push(h); },
    onDiscover: () => {},
  };
  const agent = new Agent({ name: 'sim-stuck', backend: new SimBackend(), bus: stuck, publishStallMs: 300, heartbeatMs: 50 });
  const registry = new AgentRegistry({ lostAfterMs: 60_000, clientFor: () => new LocalAgentClient(agent) });
  agent.start();
  try {
    registry.heartbeat(agent.heartbeat(), 'heartbeat');
    expect(registry.up('sim').map((a) => a.name)).toEqual(['sim-stuck']);
    agent.measure([candidate]);
    const stalled = await waitFor('a stalled heartbeat', () => beats.find((h) => h.stalled), 5_000, 20);
    expect(stalled.stalled).toMatch(/a result has waited \d+ s for the bus/);
    registry.heartbeat(stalled, 'heartbeat');
    expect(registry.up('sim')).toEqual([]);
    expect(registry.get('sim-stuck')!.state).toBe('lost');
  } finally {
    await agent.stop(0);
  }
});
