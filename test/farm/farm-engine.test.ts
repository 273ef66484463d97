// The coordinator's engine in one process over the in-process bus (embedded mode's path):
// results applied once per candidate id, a lost agent's work re-dispatched, campaigns resumed
// from the state file and the tuning log by a new engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { Agent } from '../../agent/agent.ts';
import { SimBackend } from '../../agent/backends/sim/sim-backend.ts';
import { MemoryBus } from '../../contracts/bus-memory.ts';
import { decodeCandidateId } from '../../contracts/candidate-id.ts';
import type { CampaignSnapshot } from '../../coordinator/campaign.ts';
import { DEFAULT_EXPLORER } from '../../coordinator/explore/index.ts';
import { ID_BLOCK } from '../../coordinator/campaign.ts';
import { Farm } from '../../coordinator/farm/farm.ts';
import { readLines, readRecords } from './farm-processes.ts';

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'flexfarm-engine-')); });
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function engine(bus: MemoryBus, agentNames: string[], delayMs = 1) {
  const farm = new Farm({ bus, recordsPath: join(dir, 'records.jsonl'), statePath: join(dir, 'records.campaigns.json'), settleMs: 0 });
  const agents = agentNames.map((name, i) => new Agent({ name, backend: new SimBackend({ seed: i, delayMs }), bus, capacity: 4 }));
  for (const a of agents) { a.start(); farm.addLocalAgent(a); }
  farm.start();
  cleanups.push(async () => { for (const a of agents) await a.stop(1_000); await farm.close(); });
  return { farm, agents };
}

function until(farm: Farm, id: string, done: (c: CampaignSnapshot) => boolean): Promise<CampaignSnapshot> {
  return new Promise((resolve) => {
    const stop = farm.watch(id, (e) => { if (done(e.campaign)) { queueMicrotask(() => stop()); resolve(e.campaign); } });
  });
}

const spec = { op: 'gemm', shape: { M: 64, N: 64, K: 64 }, targets: ['sim'], trials: 60, seed: 2 };

test('a result delivered twice is applied and logged once', async () => {
  const bus = new MemoryBus();
  const { farm } = engine(bus, ['a', 'b']);
  const { id } = farm.submit(spec);
  const final = await until(farm, id, (c) => c.state !== 'running');
  expect(final.state).toBe('done');
  const records = readRecords(join(dir, 'records.jsonl'));
  expect(records).toHaveLength(60);
  // Every result again, as a redelivery after a lost ack would bring it.
  await Promise.all(records.map((r) => bus.publishResult(r, 'a')));
  await new Promise((r) => setTimeout(r, 50));
  expect(readRecords(join(dir, 'records.jsonl'))).toHaveLength(60);
  expect(farm.get(id).targets[0].measured).toBe(60);
});

test("a lost agent's in-flight work goes back to the queue and is measured by another", async () => {
  const bus = new MemoryBus();
  const { farm, agents } = engine(bus, ['keeper', 'goner'], 5);
  const { id } = farm.submit(spec);
  await until(farm, id, (c) => c.targets[0].measured >= 10);
  const goner = farm.registry.get('goner')!;
  const inFlight = farm.dispatcher.inFlightOn('goner');
  expect(inFlight).toBeGreaterThan(0);
  // The agent vanishes: it stops (its queue is dropped) and the registry hears it is gone.
  await agents[1].stop(0);
  farm.registry.markLost(goner, 'test');
  expect(farm.dispatcher.inFlightOn('goner')).toBe(0);
  expect(farm.dispatcher.queued('sim') + farm.dispatcher.inFlightOn('keeper')).toBeGreaterThan(0);
  const final = await until(farm, id, (c) => c.state !== 'running');
  expect(final.state).toBe('done');
  const ids = readRecords(join(dir, 'records.jsonl')).map((r) => r.candidateId);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(Array.from({ length: 60 }, (_, i) => `${id}/sim/${i}`).sort());
});

test('a new engine resumes a running campaign from the state file and the log, with fresh ids', async () => {
  const bus1 = new MemoryBus();
  const first = engine(bus1, ['a'], 5);
  const { id } = first.farm.submit(spec);
  await until(first.farm, id, (c) => c.targets[0].measured >= 20);
  for (const c of cleanups.splice(0)) await c();
  await bus1.close();
  const before = readRecords(join(dir, 'records.jsonl')).length;
  expect(before).toBeGreaterThanOrEqual(20);
  expect(before).toBeLessThan(60);

  const second = engine(new MemoryBus(), ['a'], 1);
  expect(second.farm.get(id).state).toBe('running');
  expect(second.farm.get(id).targets[0].measured).toBe(before);
  const final = await until(second.farm, id, (c) => c.state !== 'running');
  expect(final.state).toBe('done');
  expect(final.targets[0].measured).toBe(60);
  const ids = readRecords(join(dir, 'records.jsonl')).map((r) => r.candidateId);
  expect(ids).toHaveLength(60);
  expect(new Set(ids).size).toBe(60);
  const seqs = ids.map((x) => decodeCandidateId(x)!.seq);
  expect(seqs.filter((n) => n >= ID_BLOCK)).toHaveLength(60 - before);
  // The explorer was rebuilt from the log: no config measured twice across the restart.
  const configs = readRecords(join(dir, 'records.jsonl')).map((r) => JSON.stringify(r.config));
  expect(new Set(configs).size).toBe(60);
});

test('embedded tune runs through the farm engine: candidates of one campaign, logged in the order they were proposed', async () => {
  const { tune } = await import('../../cli/embedded-tune.ts');
  const { createCpuBackend } = await import('../../agent/backends/cpu/cpu-backend.ts');
  const { defineWorkload } = await import('../../tensor/ops/registry.ts');
  const def = defineWorkload('gemm', { M: 20, N: 12, K: 8 });
  const records = join(dir, 'tune.jsonl');
  // Four candidates compile at once and finish in any order; the log still follows proposal order.
  const outcome = await tune({
    def, backend: createCpuBackend({ cacheDir: join(dir, 'cache'), threads: 1 }), trials: 8, seed: 4, recordsPath: records,
    outDir: join(dir, 'out'), batchSize: 4, protocol: { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 10_000 },
  });
  expect(outcome.trials).toBe(8);
  const lines = readRecords(records).filter((r) => r.candidateId);
  expect(lines).toHaveLength(8);
  const campaign = lines[0].campaign!;
  expect(campaign).toMatch(/^c[a-z0-9]+$/);
  expect(lines.map((r) => r.candidateId)).toEqual(Array.from({ length: 8 }, (_, i) => `${campaign}/cpu/${i}`));
  expect(lines.every((r) => (r as typeof r & { explorer: string }).explorer === DEFAULT_EXPLORER)).toBe(true);
});

test("after a target's search, its top configs are re-measured on the device that measured them, in interleaved rounds, and logged apart", async () => {
  const bus = new MemoryBus();
  const { farm } = engine(bus, ['a', 'b']); // sim seeds 0 and 1: two devices
  const { id } = farm.submit({ ...spec, remeasure: 4, remeasureRounds: 3 });
  const final = await until(farm, id, (c) => c.state !== 'running');
  expect(final.state).toBe('done');
  const path = join(dir, 'records.jsonl');
  const search = readRecords(path);
  const again = readLines(path).filter((r) => r.type === 'remeasure');
  expect(search).toHaveLength(60); // re-measuring is extra to the budget
  expect(final.targets[0].measured).toBe(60);
  expect(again).toHaveLength(12);
  expect(final.targets[0].remeasure).toEqual({ done: 12, total: 12 });
  // The four fastest search configs, each in rounds 0, 1, 2, on the device that measured it.
  const top = [...search].filter((r) => !r.error).sort((x, y) => x.median! - y.median!).slice(0, 4);
  const byId = new Map(search.map((r) => [r.candidateId, r]));
  expect(new Set(again.map((r) => r.of))).toEqual(new Set(top.map((r) => r.candidateId)));
  for (const r of again) {
    const of = byId.get(r.of!)!;
    expect(r.config).toEqual(of.config);
    expect(r.device.model).toBe(of.device.model);
    expect(r.campaign).toBe(id);
  }
  expect(again.map((r) => r.round).sort()).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  // Interleaved: issued round after round, each round every config once, rotated by one.
  const issued = [...again].sort((x, y) => decodeCandidateId(x.candidateId)!.seq - decodeCandidateId(y.candidateId)!.seq);
  expect(issued.map((r) => r.round)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  const order = issued.map((r) => top.findIndex((t) => t.candidateId === r.of));
  expect(order.slice(4, 8)).toEqual([...order.slice(1, 4), order[0]]);
  expect(final.targets[0].best?.remeasured?.runs).toBe(3);
});

test('a coordinator restarted while re-measuring finishes the plan without measuring a slot twice', async () => {
  const bus1 = new MemoryBus();
  const first = engine(bus1, ['a'], 5);
  const { id } = first.farm.submit({ ...spec, trials: 20, remeasure: 5, remeasureRounds: 3 });
  await until(first.farm, id, (c) => (c.targets[0].remeasure?.done ?? 0) >= 3);
  for (const c of cleanups.splice(0)) await c();
  await bus1.close();
  const path = join(dir, 'records.jsonl');
  const before = readLines(path).filter((r) => r.type === 'remeasure').length;
  expect(before).toBeGreaterThanOrEqual(3);
  expect(before).toBeLessThan(15);

  const second = engine(new MemoryBus(), ['a'], 1);
  const final = await until(second.farm, id, (c) => c.state !== 'running');
  expect(final.state).toBe('done');
  expect(readRecords(path)).toHaveLength(20);
  const again = readLines(path).filter((r) => r.type === 'remeasure');
  expect(again).toHaveLength(15);
  expect(new Set(again.map((r) => `${JSON.stringify(r.config)}#${r.round}`)).size).toBe(15);
  // Re-measurement ids come after the search's and are never taken for search results.
  const from = Math.min(...again.map((r) => decodeCandidateId(r.candidateId)!.seq));
  expect(readRecords(path).every((r) => decodeCandidateId(r.candidateId)!.seq < from)).toBe(true);
  expect(final.targets[0].measured).toBe(20);
});

test('--remeasure 0: no re-measurement, the best is the search best', async () => {
  const bus = new MemoryBus();
  const { farm } = engine(bus, ['a']);
  const { id } = farm.submit({ ...spec, trials: 20, remeasure: 0 });
  const final = await until(farm, id, (c) => c.state !== 'running');
  expect(readLines(join(dir, 'records.jsonl')).filter((r) => r.type === 'remeasure')).toEqual([]);
  expect(final.targets[0].remeasure).toBeUndefined();
  expect(final.targets[0].best?.remeasured).toBeUndefined();
});

test('campaigns at once are bounded: a submit beyond the limit is refused naming it, never queued', async () => {
  const { MAX_RUNNING_CAMPAIGNS } = await import('../../coordinator/farm/farm.ts');
  const { farm } = engine(new MemoryBus(), ['a'], 50);
  for (let i = 0; i < MAX_RUNNING_CAMPAIGNS; i++) farm.submit({ ...spec, trials: 10_000 });
  expect(() => farm.submit(spec)).toThrow(new RegExp(`${MAX_RUNNING_CAMPAIGNS} campaigns are running`));
  expect(farm.list()).toHaveLength(MAX_RUNNING_CAMPAIGNS);
  farm.cancel(farm.list()[0].id);
  expect(farm.submit(spec).state).toBe('running');
});
