// Acceptance: the coordinator stopped mid-campaign and started again — the campaign resumes;
// results published while it was down are applied; none lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decodeCandidateId } from '../../contracts/candidate-id.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import {
  cli, httpAddressOf, httpJson, loggedIds, readRecords, startAgent, startCoordinator, stopAll, streamedResults, waitFor,
  type HttpAgent, type HttpCampaign, type ServiceProcess,
} from './farm-processes.ts';

let nats: NatsServer;
let dir: string;
let records: string;
const running: ServiceProcess[] = [];
const coordinatorFlags = ['--http', '127.0.0.1:0', '--settle-ms', '300'];

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-restart-'));
  records = join(dir, 'records.jsonl');
  const sim = (name: string) => startAgent({ device: 'sim', nats: nats.url, name, extra: ['--delay-ms', '30', '--capacity', '6', '--heartbeat-ms', '200'] });
  running.push(...await Promise.all([sim('sim-1'), sim('sim-2')]));
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a coordinator killed mid-campaign resumes it after a restart and applies what was published meanwhile', async () => {
  const first = await startCoordinator({ nats: nats.url, records, extra: coordinatorFlags });
  await waitFor('two agents up', async () => ((await httpJson<HttpAgent[]>(httpAddressOf(first), '/api/agents')).length === 2 ? true : undefined));
  const trials = 160;
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=64,N=48,K=32', '--targets', 'sim', '--trials', String(trials), '--seed', '7', '--coordinator', first.address, '--json']);
  expect(submitted.code, submitted.stderr).toBe(0);
  const { id } = JSON.parse(submitted.stdout) as { id: string };
  await waitFor('a quarter measured', async () => {
    const c = await httpJson<HttpCampaign>(httpAddressOf(first), `/api/campaigns/${id}`);
    return c.targets[0].measured >= trials / 4 && c.targets[0].inFlight > 0 ? true : undefined;
  }, 30_000, 20);

  // Killed without warning while agents hold its candidates; they finish them and publish anyway.
  await first.stop('SIGKILL');
  const killedAtMs = Date.now();
  const measuredBefore = readRecords(records).filter((r) => r.campaign === id).length;
  await new Promise((r) => setTimeout(r, 1_000));

  const second = await startCoordinator({ nats: nats.url, records, extra: coordinatorFlags });
  running.push(second);
  const restartedAtMs = Date.now();
  const watched = await cli(['campaign', 'watch', id, '--coordinator', second.address, '--json'], { timeoutMs: 40_000 });
  expect(watched.code, watched.stderr).toBe(0);
  const final = JSON.parse(watched.stdout) as { state: string; targets: { measured: number; budget: number }[] };
  expect(final.state).toBe('done');
  // The budget holds across the restart: results it had not seen and work agents still held count.
  expect(final.targets[0].measured).toBe(trials);
  expect(second.log()).toMatch(/restored 1 campaigns/);

  // Results published while no coordinator ran exist, and they are in the log.
  const streamed = await streamedResults(nats.url, id);
  const whileDown = streamed.filter((s) => s.timestampMs > killedAtMs && s.timestampMs < restartedAtMs);
  expect(whileDown.length).toBeGreaterThan(0);
  // None lost, none applied twice: every result on the bus is in the log exactly once.
  const logged = readRecords(records).filter((r) => r.campaign === id).map((r) => r.candidateId);
  expect(logged.length).toBe(trials);
  expect(new Set(logged).size).toBe(logged.length);
  const all = loggedIds(records, id); // with the re-measurements after the search
  expect(new Set(all).size).toBe(all.length);
  expect(new Set(all)).toEqual(new Set(streamed.map((s) => s.result.candidateId)));
  expect(logged.length).toBeGreaterThan(measuredBefore);
  // Ids issued after the restart never reuse one issued before it.
  const reissued = logged.map((x) => decodeCandidateId(x)!.seq);
  expect(reissued.some((n) => n >= 4096)).toBe(true);
});
