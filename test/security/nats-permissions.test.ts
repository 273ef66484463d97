// Acceptance (issue 15, item 2): nats-server started with the shipped configuration
// (deploy/nats-server.conf) refuses what a role may not do. A wrong password, no credentials and a
// client that does not trust the server's certificate are refused at connect; an agent's
// credential cannot publish on another agent's subjects (results or heartbeats), on the old
// subjects without an agent, read results or heartbeats, or change the stream; what it may
// publish on its own subject in another agent's name is dropped by the coordinator's side.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AgentHeartbeat, ResultDelivery } from '../../contracts/bus.ts';
import { NatsBus } from '../../contracts/bus-nats.ts';
import { PublishRefusedError } from '../../contracts/bus.ts';
import type { MessageDrop } from '../../contracts/messages/message-error.ts';
import type { MeasureResult } from '../../contracts/result.ts';
import { loadNatsSecurity, type NatsSecurity } from '../../contracts/security/nats-security.ts';
import { agentInboxPrefix, COORDINATOR_INBOX_PREFIX, RESULTS_STREAM } from '../../contracts/subjects.ts';
import { forger, type Forger } from '../helpers/forge.ts';
import { makeLabPki, type LabPki } from '../helpers/lab-ca.ts';
import { SHIPPED_AGENTS, startShippedNats, type ShippedNats } from '../helpers/shipped-nats.ts';
import { waitFor } from '../farm/farm-processes.ts';

const [AGENT, OTHER] = SHIPPED_AGENTS;
let pki: LabPki;
let nats: ShippedNats;
let coordinator: NatsBus;
let agentBus: NatsBus;
let attacker: Forger;
const delivered: ResultDelivery[] = [];
const heartbeats: AgentHeartbeat[] = [];
const drops: MessageDrop[] = [];
const agentLog: string[] = [];

const credentials = (user: string, password = nats.password(user)): NatsSecurity => loadNatsSecurity({
  user: { value: user, from: '--nats-user' }, password: { value: password, from: 'FLEXFARM_NATS_PASSWORD' },
  tlsCa: { value: pki.ca, from: '--nats-tls-ca' },
});

beforeAll(async () => {
  pki = makeLabPki();
  nats = await startShippedNats(pki);
  // An agent that comes before the coordinator may not create the stream: it waits for it.
  agentBus = await NatsBus.connect({ servers: nats.url, security: credentials(AGENT), inboxPrefix: agentInboxPrefix(AGENT), log: (l) => agentLog.push(l) });
  coordinator = await NatsBus.connect({ servers: nats.url, security: credentials('coordinator'), inboxPrefix: COORDINATOR_INBOX_PREFIX, consumer: 'test' });
  coordinator.onHeartbeat((h) => heartbeats.push(h));
  coordinator.onDropped((d) => drops.push(d));
  coordinator.consumeResults(async (batch) => { for (const d of batch) { delivered.push(d); d.ack(); } });
  // Another agent's credential in hostile hands: raw nats.js, whatever the server lets it do.
  attacker = await forger(nats.url, { ...credentials(OTHER).connect, inboxPrefix: agentInboxPrefix(OTHER) });
}, 30_000);

afterAll(async () => {
  await attacker?.close();
  await agentBus?.close();
  await coordinator?.close();
  await nats?.dispose();
  pki?.dispose();
});

function result(candidateId: string, campaign = 'c1'): MeasureResult {
  return {
    candidateId, campaign, workload: 'gemm(M=8,N=8,K=8,dtype=float32)', target: 'sim', config: {}, seconds: [1e-3], median: 1e-3, error: null,
    device: { kind: 'sim', name: 'x', model: 'sim', cores: 1, memoryBytes: 1, toolchain: 'x', limits: {} },
    toolchain: 'x', simulated: true, at: new Date().toISOString(),
  } as MeasureResult;
}

test('a wrong password, no credentials, and a client without the lab CA are refused at connect', async () => {
  await expect(NatsBus.connect({ servers: nats.url, security: credentials(AGENT, 'not-the-password') }))
    .rejects.toThrow(new RegExp(`NATS at nats://127.0.0.1:\\d+ refused user '${AGENT}' over TLS: .*Authorization Violation`, 'i'));
  await expect(NatsBus.connect({ servers: nats.url, security: loadNatsSecurity({ tlsCa: { value: pki.ca, from: '--nats-tls-ca' } }) }))
    .rejects.toThrow(/refused over TLS: .*Authorization Violation/i);
  // Only TLS reaches the server; the server's certificate is the lab CA's, which a client must be given.
  const noCa = loadNatsSecurity({ user: { value: AGENT, from: '--nats-user' }, password: { value: nats.password(AGENT), from: 'FLEXFARM_NATS_PASSWORD' } });
  await expect(NatsBus.connect({ servers: nats.url, security: noCa, connectTimeoutMs: 3_000 })).rejects.toThrow(/the server speaks TLS: give the lab CA with --nats-tls-ca FILE/);
  const otherCa = loadNatsSecurity({ user: { value: AGENT, from: '--nats-user' }, password: { value: nats.password(AGENT), from: 'FLEXFARM_NATS_PASSWORD' }, tlsCa: { value: pki.otherCa, from: '--nats-tls-ca' } });
  await expect(NatsBus.connect({ servers: nats.url, security: otherCa, connectTimeoutMs: 3_000 })).rejects.toThrow(/over TLS: .*the server's certificate is not signed by the CA given in --nats-tls-ca/);
});

test('an agent publishes its results and heartbeats on its own subjects; the coordinator reads them, the publisher from the subject', async () => {
  expect(agentLog).toContain('JetStream stream FLEXFARM_RESULTS is missing and this connection may not create it; waiting for the coordinator to create it');
  await agentBus.publishResult(result('c1/sim/0'), AGENT);
  agentBus.publishHeartbeat({ name: AGENT, address: '127.0.0.1:1', device: result('x').device, capacity: 1, maxBatch: 1,
    load: { queued: 0, measuring: 0, unpublished: 0 }, held: [], startedAt: new Date().toISOString(), intervalMs: 1_000 });
  const got = await waitFor('the result', () => delivered.find((d) => d.result.candidateId === 'c1/sim/0'), 10_000);
  expect(got).toMatchObject({ agent: AGENT, agentFromSubject: true, subject: `flexfarm.results.c1.${AGENT}` });
  await waitFor('the heartbeat', () => heartbeats.find((h) => h.name === AGENT), 10_000);
});

test("an agent's credential publishing on another agent's results subject is refused by nats-server", async () => {
  const envelope = { v: 1, agent: AGENT, result: result('c1/sim/1') };
  await expect(attacker.result(`flexfarm.results.c1.${AGENT}`, envelope)).rejects.toThrow(/Permissions Violation for Publish to "flexfarm\.results\.c1\./);
  // nor on the old subject without an agent, which the coordinator still reads
  await expect(attacker.result('flexfarm.results.c1', envelope)).rejects.toThrow(/Permissions Violation/);
  // flexfarm's own publisher says so once, and does not retry; its log says why
  const logged: string[] = [];
  const impostor = await NatsBus.connect({ servers: nats.url, security: credentials(OTHER), inboxPrefix: agentInboxPrefix(OTHER), log: (l) => logged.push(l) });
  try {
    await expect(impostor.publishResult(result('c1/sim/2'), AGENT)).rejects.toThrow(PublishRefusedError);
    await expect(impostor.publishResult(result('c1/sim/2'), AGENT)).rejects.toThrow(/Permissions Violation/);
    await waitFor('the log line', () => logged.find((l) => l.startsWith('NATS refused a publish or subscription of this connection (permissions violation)')), 5_000);
  } finally {
    await impostor.close();
  }
});

test("an agent's credential cannot send another agent's heartbeats, read the farm's messages or change the stream", async () => {
  const nc = await import('nats').then(({ connect }) => connect({ servers: nats.url, ...credentials(OTHER).connect, inboxPrefix: agentInboxPrefix(OTHER) }));
  try {
    const errors: string[] = [];
    void (async () => { for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.data)); })();
    const beat = JSON.stringify({ name: AGENT, address: '10.6.6.6:6666' });
    nc.publish(`flexfarm.agents.heartbeat.${AGENT}`, new TextEncoder().encode(beat));
    nc.publish('flexfarm.agents.heartbeat', new TextEncoder().encode(beat));
    await waitFor('the two publishes refused', () => (errors.length >= 2 ? true : undefined), 5_000);
    expect(errors).toEqual(['PERMISSIONS_VIOLATION', 'PERMISSIONS_VIOLATION']);
    // A subscription the server refuses ends with its error.
    const refusal = async (subject: string) => {
      const sub = nc.subscribe(subject);
      const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('not refused'), 5_000));
      return Promise.race([timeout, (async () => {
        try { for await (const _ of sub) return 'a message arrived'; return 'ended'; } catch (err) { return (err as Error).message; }
      })()]);
    };
    expect(await refusal('flexfarm.results.>')).toMatch(/Permissions Violation for Subscription to "flexfarm\.results\.>"/);
    expect(await refusal('flexfarm.agents.heartbeat.>')).toMatch(/Permissions Violation for Subscription to "flexfarm\.agents\.heartbeat\.>"/);
    expect(await refusal('_INBOX_COORDINATOR.>')).toMatch(/Permissions Violation for Subscription/);
    const jsm = await nc.jetstreamManager();
    await expect(jsm.streams.delete(RESULTS_STREAM)).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.DELETE/);
    await expect(jsm.consumers.add(RESULTS_STREAM, { durable_name: 'spy' })).rejects.toThrow(/Permissions Violation/);
    await expect(nc.request('$JS.API.STREAM.MSG.GET.FLEXFARM_RESULTS', new TextEncoder().encode('{"seq":1}'))).rejects.toThrow(/Permissions Violation/);
    await nc.flush();
    expect(heartbeats.filter((h) => h.address === '10.6.6.6:6666')).toEqual([]);
  } finally {
    await nc.close();
  }
});

test('what an agent may publish on its own subjects in another agent\'s name is dropped (agent_mismatch), never delivered', async () => {
  // its own results subject, an envelope naming the other agent
  await attacker.result(`flexfarm.results.c1.${OTHER}`, { v: 1, agent: AGENT, result: result('c1/sim/3') });
  // its own heartbeat subject, another agent's name
  attacker.heartbeat({ name: AGENT, address: '10.6.6.6:6666', device: result('x').device, capacity: 1, maxBatch: 1,
    load: { queued: 0, measuring: 0, unpublished: 0 }, held: [], startedAt: new Date().toISOString(), intervalMs: 1_000 }, `flexfarm.agents.heartbeat.${OTHER}`);
  await waitFor('two drops', () => (drops.filter((d) => d.reason === 'agent_mismatch').length >= 2 ? true : undefined), 10_000);
  expect(drops.filter((d) => d.reason === 'agent_mismatch').map((d) => [d.subjectKind, d.subject, d.detail]).sort()).toEqual([
    ['heartbeat', `flexfarm.agents.heartbeat.${OTHER}`, `heartbeat.name: "${AGENT}" is not the agent of its subject ("${OTHER}")`],
    ['results', `flexfarm.results.c1.${OTHER}`, `envelope.agent: "${AGENT}" is not the agent of its subject ("${OTHER}")`],
  ]);
  expect(delivered.map((d) => d.result.candidateId)).not.toContain('c1/sim/3');
  expect(heartbeats.filter((h) => h.address === '10.6.6.6:6666')).toEqual([]);
});
