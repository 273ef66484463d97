// Acceptance: nats-server restarted mid-campaign — agents and coordinator reconnect; none lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import {
  cli, httpAddressOf, httpJson, loggedIds, readRecords, startAgent, startCoordinator, stopAll, streamedResults, waitFor,
  type HttpAgent, type HttpCampaign, type ServiceProcess,
} from './farm-processes.ts';

let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
const agents: ServiceProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-nats-restart-'));
  const sim = (name: string) => startAgent({ device: 'sim', nats: nats.url, name, extra: ['--delay-ms', '20', '--capacity', '6', '--heartbeat-ms', '200'] });
  const [c, ...a] = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--http', '127.0.0.1:0', '--settle-ms', '200'] }),
    sim('sim-1'), sim('sim-2'),
  ]);
  coordinator = c;
  agents.push(...a);
});

afterAll(async () => {
  await Promise.all([...agents, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a nats-server restart mid-campaign loses nothing: agents and coordinator reconnect and finish', async () => {
  const http = httpAddressOf(coordinator);
  await waitFor('two agents up', async () => ((await httpJson<HttpAgent[]>(http, '/api/agents')).length === 2 ? true : undefined));
  const trials = 200;
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=32,N=32,K=96', '--targets', 'sim', '--trials', String(trials), '--coordinator', coordinator.address, '--json']);
  expect(submitted.code, submitted.stderr).toBe(0);
  const { id } = JSON.parse(submitted.stdout) as { id: string };
  await waitFor('a fifth measured', async () => {
    const c = await httpJson<HttpCampaign>(http, `/api/campaigns/${id}`);
    return c.targets[0].measured >= trials / 5 ? true : undefined;
  }, 30_000, 20);

  // The broker goes away (agents keep measuring and retry their publishes) and comes back on the
  // same port with the same store.
  await nats.stop();
  const loggedWhileDown = readRecords(join(dir, 'records.jsonl')).length;
  expect(loggedWhileDown).toBeLessThan(trials);
  await new Promise((r) => setTimeout(r, 700));
  await nats.restart();

  const watched = await cli(['campaign', 'watch', id, '--coordinator', coordinator.address, '--json'], { timeoutMs: 45_000 });
  expect(watched.code, watched.stderr).toBe(0);
  const final = JSON.parse(watched.stdout) as { state: string; targets: { measured: number }[] };
  expect(final.state).toBe('done');
  expect(final.targets[0].measured).toBe(trials);
  expect(coordinator.log()).toMatch(/reconnected to NATS/);

  // Every result on the bus is in the log once; every issued candidate was measured.
  const records = readRecords(join(dir, 'records.jsonl')).filter((r) => r.campaign === id);
  const ids = records.map((r) => r.candidateId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBe(trials);
  const all = loggedIds(join(dir, 'records.jsonl'), id); // with the re-measurements after the search
  expect(new Set(all).size).toBe(all.length);
  const streamed = await streamedResults(nats.url, id);
  expect(new Set(streamed.map((s) => s.result.candidateId))).toEqual(new Set(all));
  // Both agents were still serving after the restart.
  const after = await httpJson<HttpAgent[]>(http, '/api/agents');
  expect(after.map((a) => a.state)).toEqual(['up', 'up']);
});
