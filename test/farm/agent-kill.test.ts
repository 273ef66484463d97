// Acceptance: an agent killed with SIGKILL mid-batch — its in-flight candidates are re-dispatched,
// the campaign completes, no candidate is lost or applied twice.
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
const agents = new Map<string, ServiceProcess>();

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-kill-'));
  const sim = (name: string) => startAgent({ device: 'sim', nats: nats.url, name, extra: ['--delay-ms', '25', '--capacity', '4', '--heartbeat-ms', '200'] });
  const [c, ...a] = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--http', '127.0.0.1:0', '--settle-ms', '200', '--lost-after-ms', '800'] }),
    sim('sim-1'), sim('sim-2'), sim('victim'),
  ]);
  coordinator = c;
  ['sim-1', 'sim-2', 'victim'].forEach((name, i) => agents.set(name, a[i]));
});

afterAll(async () => {
  await Promise.all([...agents.values(), coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the work of an agent killed mid-batch is re-dispatched; every candidate is applied exactly once', async () => {
  const http = httpAddressOf(coordinator);
  await waitFor('three agents up', async () => {
    const list = await httpJson<HttpAgent[]>(http, '/api/agents');
    return list.filter((a) => a.state === 'up').length === 3 ? true : undefined;
  });
  const trials = 150;
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=64,N=64,K=64', '--targets', 'sim', '--trials', String(trials), '--coordinator', coordinator.address, '--json']);
  expect(submitted.code, submitted.stderr).toBe(0);
  const { id } = JSON.parse(submitted.stdout) as { id: string };

  // Kill the victim while the coordinator has candidates in flight on it.
  const inFlightAtKill = await waitFor('the victim busy mid-campaign', async () => {
    const [campaign, list] = await Promise.all([httpJson<HttpCampaign>(http, `/api/campaigns/${id}`), httpJson<HttpAgent[]>(http, '/api/agents')]);
    const victim = list.find((a) => a.name === 'victim')!;
    return campaign.targets[0].measured >= 20 && victim.measured > 0 && victim.inFlight > 0 ? victim.inFlight : undefined;
  }, 30_000, 20);
  await agents.get('victim')!.stop('SIGKILL');
  expect(inFlightAtKill).toBeGreaterThan(0);

  const watched = await cli(['campaign', 'watch', id, '--coordinator', coordinator.address, '--json'], { timeoutMs: 40_000 });
  expect(watched.code, watched.stderr).toBe(0);
  const final = JSON.parse(watched.stdout) as { state: string; targets: { measured: number }[] };
  expect(final.state).toBe('done');
  expect(final.targets[0].measured).toBe(trials);

  // The coordinator saw the agent go and put its work back in the queue.
  const list = await httpJson<HttpAgent[]>(http, '/api/agents');
  expect(list.find((a) => a.name === 'victim')!.state).toBe('lost');
  const redispatched = /re-dispatching (\d+) candidates of agent victim/.exec(coordinator.log());
  expect(redispatched, coordinator.log()).not.toBeNull();
  expect(Number(redispatched![1])).toBeGreaterThan(0);

  // No candidate lost, none applied twice: the log holds each issued id exactly once.
  const records = readRecords(join(dir, 'records.jsonl')).filter((r) => r.campaign === id);
  const ids = records.map((r) => r.candidateId).sort();
  expect(ids).toEqual(Array.from({ length: trials }, (_, i) => `${id}/sim/${i}`).sort());
  // Every result that reached the bus is in the log (a candidate measured twice is logged once),
  // the re-measurements after the search included.
  const logged = loggedIds(join(dir, 'records.jsonl'), id);
  expect(new Set(logged).size).toBe(logged.length);
  expect(logged.length).toBeGreaterThan(ids.length);
  const streamed = await streamedResults(nats.url, id);
  expect(new Set(streamed.map((s) => s.result.candidateId))).toEqual(new Set(logged));
  expect(streamed.some((s) => s.agent === 'victim')).toBe(true);
});
