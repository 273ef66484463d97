// Acceptance (issue 15): malformed heartbeats (held not an array, address not a string, device {},
// capacity "abc", intervalMs 1e300, not JSON) are dropped and counted and never cut the coordinator
// off NATS or break ListAgents and /metrics; a heartbeat reusing a live agent's name from another
// address does not take it over, and `leaving: true` from another address does not retire it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { counterValue, forger, type Forger } from '../helpers/forge.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { cli, startAgent, startCoordinator, stopAll, waitFor, type ServiceProcess } from './farm-processes.ts';

let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
let agent: ServiceProcess;
let forge: Forger;

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-heartbeats-'));
  [coordinator, agent] = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--http', '127.0.0.1:0', '--settle-ms', '100'] }),
    startAgent({ device: 'sim', nats: nats.url, name: 'sim-real', extra: ['--delay-ms', '2', '--heartbeat-ms', '200'] }),
  ]);
  forge = await forger(nats.url);
  await waitFor('the agent registered', async () => ((await agents()).some((a) => a.name === 'sim-real') ? true : undefined));
});

afterAll(async () => {
  await forge?.close();
  await Promise.all([agent, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface AgentRow { name: string; address: string; state: string }

async function agents(): Promise<AgentRow[]> {
  const r = await cli(['agents', '--coordinator', coordinator.address, '--json']);
  if (r.code !== 0) throw new Error(`agents failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as AgentRow[];
}

async function metrics(): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${coordinator.http}/metrics`);
  return { status: res.status, text: await res.text() };
}

test('malformed heartbeats are dropped and counted; the coordinator stays connected and ListAgents and /metrics keep working', async () => {
  const [real] = await forge.heartbeats(1);
  const fake = (overrides: Record<string, unknown>) => ({ ...real, name: 'fake-agent', address: '127.0.0.1:1', ...overrides });
  forge.heartbeat(fake({ held: 5 }));
  forge.heartbeat(fake({ held: 'abc' }));
  forge.heartbeat(fake({ address: 42 }));
  forge.heartbeat(fake({ device: {} }));
  forge.heartbeat(fake({ capacity: 'abc' }));
  forge.heartbeat(fake({ intervalMs: 1e300 }));
  forge.heartbeat(fake({ name: 'x'.repeat(100_000) }));
  forge.heartbeat('{not json');
  forge.heartbeat('null');
  await waitFor('the heartbeats counted', async () => {
    const { text } = await metrics();
    return counterValue(text, 'flexfarm_messages_dropped_total', { subject_kind: 'heartbeat', reason: 'malformed' }) >= 8 ? true : undefined;
  }, 10_000).catch(() => {});
  const listed = await agents();
  expect(listed.map((a) => a.name)).toEqual(['sim-real']);
  expect(listed[0].state).toBe('up');
  const { status, text } = await metrics();
  expect(status).toBe(200);
  expect(counterValue(text, 'flexfarm_messages_dropped_total', { subject_kind: 'heartbeat', reason: 'malformed' })).toBe(8);
  expect(counterValue(text, 'flexfarm_messages_dropped_total', { subject_kind: 'heartbeat', reason: 'not_json' })).toBe(1);
  expect(coordinator.log()).toMatch(/dropped a message on flexfarm\.agents\.heartbeat: malformed: heartbeat\.held: must be an array/);
  expect(coordinator.log()).not.toMatch(/disconnected from NATS/);
  // Work still flows over the same connection.
  const tuned = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=16,N=16,K=16', '--targets', 'sim', '--trials', '10', '--remeasure', '0',
    '--coordinator', coordinator.address, '--json']);
  expect(tuned.code, tuned.stderr).toBe(0);
  const watched = await cli(['campaign', 'watch', (JSON.parse(tuned.stdout) as { id: string }).id, '--coordinator', coordinator.address, '--json'], { timeoutMs: 30_000 });
  expect((JSON.parse(watched.stdout) as { state: string }).state).toBe('done');
}, 60_000);

test("a heartbeat with a live agent's name from another address neither moves nor retires it", async () => {
  const [real] = await forge.heartbeats(1);
  const address = (await agents())[0].address;
  for (let i = 0; i < 5; i++) forge.heartbeat({ ...real, address: '10.6.6.6:6666', startedAt: new Date().toISOString() });
  forge.heartbeat({ ...real, address: '10.6.6.6:6666', leaving: true });
  await waitFor('the hijack counted', async () => {
    const { text } = await metrics();
    return counterValue(text, 'flexfarm_messages_dropped_total', { subject_kind: 'heartbeat', reason: 'address_conflict' }) >= 6 ? true : undefined;
  }, 10_000).catch(() => {});
  const listed = await agents();
  expect(listed).toHaveLength(1);
  expect(listed[0]).toMatchObject({ name: 'sim-real', address, state: 'up' });
  expect(coordinator.log()).not.toMatch(/agent sim-real lost/);
  expect(coordinator.log()).toMatch(/heartbeat for agent sim-real from "10\.6\.6\.6:6666" ignored: it is up at/);
  expect(counterValue((await metrics()).text, 'flexfarm_messages_dropped_total', { subject_kind: 'heartbeat', reason: 'address_conflict' })).toBe(6);
});
