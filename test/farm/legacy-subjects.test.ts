// Agents from before the agent's name was in the subjects published results on
// `flexfarm.results.<campaign>` and heartbeats on `flexfarm.agents.heartbeat`: the coordinator's
// bus still reads both (the publisher is then the one the message names), next to the new
// subjects. Real nats-server without authorization.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AgentHeartbeat, ResultDelivery } from '../../contracts/bus.ts';
import { NatsBus } from '../../contracts/bus-nats.ts';
import { forger, type Forger } from '../helpers/forge.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { waitFor } from './farm-processes.ts';

let nats: NatsServer;
let bus: NatsBus;
let old: Forger;
const delivered: ResultDelivery[] = [];
const heartbeats: AgentHeartbeat[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  bus = await NatsBus.connect({ servers: nats.url, consumer: 'legacy' });
  bus.onHeartbeat((h) => heartbeats.push(h));
  bus.consumeResults(async (batch) => { for (const d of batch) { delivered.push(d); d.ack(); } });
  old = await forger(nats.url);
});

afterAll(async () => {
  await old?.close();
  await bus?.close();
  await nats?.dispose();
});

const device = { kind: 'sim', name: 'x', model: 'sim', cores: 1, memoryBytes: 1, toolchain: 'x', limits: {} };

test('a result on the old subject is delivered with the agent its envelope names; a new one with its subject\'s', async () => {
  const result = (candidateId: string) => ({
    candidateId, campaign: 'c1', workload: 'w', target: 'sim', config: {}, seconds: [1e-3], median: 1e-3, error: null,
    device, toolchain: 'x', simulated: true, at: new Date().toISOString(),
  });
  await old.result('flexfarm.results.c1', { v: 1, agent: 'old-agent', result: result('c1/sim/0') });
  await old.result('flexfarm.results.c1.new-agent', { v: 1, agent: 'new-agent', result: result('c1/sim/1') });
  await waitFor('both results', () => (delivered.length >= 2 ? true : undefined), 10_000);
  const byId = Object.fromEntries(delivered.map((d) => [d.result.candidateId, { agent: d.agent, fromSubject: d.agentFromSubject ?? false }]));
  expect(byId).toEqual({ 'c1/sim/0': { agent: 'old-agent', fromSubject: false }, 'c1/sim/1': { agent: 'new-agent', fromSubject: true } });
});

test('a heartbeat on the bare old subject is read, as one on the agent\'s own', async () => {
  const beat = (name: string) => ({ name, address: '127.0.0.1:1', device, capacity: 1, maxBatch: 1,
    load: { queued: 0, measuring: 0, unpublished: 0 }, held: [], startedAt: new Date().toISOString(), intervalMs: 1_000 });
  old.heartbeat(beat('old-agent'));
  old.heartbeat(beat('new-agent'), 'flexfarm.agents.heartbeat.new-agent');
  await waitFor('both heartbeats', () => (heartbeats.length >= 2 ? true : undefined), 10_000);
  expect(heartbeats.map((h) => h.name).sort()).toEqual(['new-agent', 'old-agent']);
});
