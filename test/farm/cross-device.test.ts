// Acceptance: three agents (two cpu, one sim) complete a cross-device campaign; every candidate is
// measured exactly once; the records equal the results. Real nats-server, real processes, real gcc.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decodeCandidateId } from '../../contracts/candidate-id.ts';
import { chooseBest } from '../../coordinator/remeasure/figures.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import {
  cli, readLines, readRecords, startAgent, startCoordinator, stopAll, streamedResults, waitFor, type ServiceProcess,
} from './farm-processes.ts';

let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
const agents: ServiceProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-cross-'));
  const cache = ['--cache', join(dir, 'cache'), '--threads', '1'];
  // Started together: each process spends most of its start-up loading TypeScript.
  const started = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--settle-ms', '200'] }),
    startAgent({ device: 'cpu', nats: nats.url, name: 'cpu-a', extra: cache }),
    startAgent({ device: 'cpu', nats: nats.url, name: 'cpu-b', extra: cache }),
    startAgent({ device: 'sim', nats: nats.url, name: 'sim-a', extra: ['--delay-ms', '5'] }),
  ]);
  coordinator = started[0];
  agents.push(...started.slice(1));
});

afterAll(async () => {
  await Promise.all([...agents, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('two cpu agents and a sim agent tune one gemm together; each candidate is measured once and logged once', async () => {
  const seen = await waitFor('three agents up', async () => {
    const r = await cli(['agents', '--coordinator', coordinator.address, '--json']);
    const list = JSON.parse(r.stdout) as { name: string; kind: string; state: string }[];
    return list.filter((a) => a.state === 'up').length === 3 ? list : undefined;
  });
  expect(seen.map((a) => `${a.name}:${a.kind}`).sort()).toEqual(['cpu-a:cpu', 'cpu-b:cpu', 'sim-a:sim']);

  const trials = 12;
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=24,N=20,K=16', '--targets', 'cpu,sim',
    '--trials', String(trials), '--seed', '3', '--repeat', '2', '--min-repeat-ms', '2', '--coordinator', coordinator.address, '--json']);
  expect(submitted.stderr).toBe('');
  expect(submitted.code).toBe(0);
  const { id } = JSON.parse(submitted.stdout) as { id: string };
  expect(id).toMatch(/^c[a-z0-9]+$/);

  const watched = await cli(['campaign', 'watch', id, '--coordinator', coordinator.address, '--json'], { timeoutMs: 50_000 });
  expect(watched.code, watched.stderr).toBe(0);
  const final = JSON.parse(watched.stdout) as { state: string; targets: { target: string; measured: number; valid: number; best: { config: object; seconds: number; gflops: number } | null }[] };
  expect(final.state).toBe('done');
  for (const t of final.targets) {
    expect(t.measured).toBe(trials);
    expect(t.valid).toBeGreaterThan(0);
    expect(t.best!.seconds).toBeGreaterThan(0);
    expect(t.best!.gflops).toBeGreaterThan(0);
  }

  // Exactly once: the stream (read independently of the coordinator) holds one result per candidate.
  const streamed = await streamedResults(nats.url, id);
  const ids = streamed.map((s) => s.result.candidateId);
  expect(new Set(ids).size).toBe(ids.length);
  const expected = [
    ...Array.from({ length: trials }, (_, i) => `${id}/cpu/${i}`),
    ...Array.from({ length: trials }, (_, i) => `${id}/sim/${i}`),
  ].sort();
  // The search's candidates, then the re-measurements of each target's top 5 (3 rounds).
  expect(ids.filter((x) => decodeCandidateId(x)!.seq < trials).sort()).toEqual(expected);
  expect(ids.filter((x) => decodeCandidateId(x)!.seq >= trials)).toHaveLength(2 * 5 * 3);
  // Both cpu agents took part; cpu results are real measurements, sim results say they are simulated.
  expect(new Set(streamed.filter((s) => s.result.target === 'cpu').map((s) => s.agent))).toEqual(new Set(['cpu-a', 'cpu-b']));
  expect(streamed.filter((s) => s.result.target === 'sim').every((s) => s.agent === 'sim-a' && s.result.simulated)).toBe(true);
  expect(streamed.filter((s) => s.result.target === 'cpu').every((s) => !s.result.simulated && s.result.device.kind === 'cpu')).toBe(true);

  // The records equal the results: same lines, nothing more, nothing less.
  const lines = readLines(join(dir, 'records.jsonl')).filter((r) => r.campaign === id);
  expect(lines.length).toBe(streamed.length);
  const byId = new Map(streamed.map((s) => [s.result.candidateId, s.result]));
  for (const r of lines) {
    const { v, explorer, type, round, of, ...result } = r as typeof r & { v: number; explorer?: string };
    expect(v).toBe(1);
    if (type === 'remeasure') {
      expect(typeof round).toBe('number');
      expect(byId.get(of!)?.config).toEqual(r.config); // it re-measures that search result's config
    } else expect(explorer).toBe('random');
    // the agent's yardstick travels with its results and is logged once, as lines of its own
    const { yardstick: _yardstick, ...streamedResult } = byId.get(r.candidateId) as { yardstick?: unknown };
    expect(result).toEqual(streamedResult);
  }
  // The best the coordinator reports is the best by re-measured figure per target.
  const records = readRecords(join(dir, 'records.jsonl')).filter((r) => r.campaign === id);
  for (const t of final.targets) {
    const valid = records.filter((r) => r.target === t.target && !r.error && r.median !== null);
    expect(t.valid).toBe(valid.length);
    const again = lines.filter((r) => r.type === 'remeasure' && r.target === t.target);
    expect(t.best!.seconds).toBe(chooseBest(valid, again)!.seconds);
  }
});
