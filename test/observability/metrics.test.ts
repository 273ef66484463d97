// The metrics' figures against what really happened, in one process: the farm engine over the
// in-process bus with sim agents (counts, round trips, re-dispatches of a lost agent, q's ε), the
// coordinator's HTTP routes for the page, and compiler/timing-run durations from real gcc runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { Agent } from '../../agent/agent.ts';
import { createCpuBackend } from '../../agent/backends/cpu/cpu-backend.ts';
import { SimBackend } from '../../agent/backends/sim/sim-backend.ts';
import { AgentMetrics } from '../../agent/metrics.ts';
import { tune } from '../../cli/embedded-tune.ts';
import { MemoryBus } from '../../contracts/bus-memory.ts';
import type { CampaignSnapshot } from '../../coordinator/campaign.ts';
import { Farm } from '../../coordinator/farm/farm.ts';
import { CoordinatorHttpServer } from '../../coordinator/http-server.ts';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import { Observability } from '../../coordinator/web/observability.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { readLines, readRecords } from '../farm/farm-processes.ts';

let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'flexfarm-metrics-')); });
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function value(registry: { getSingleMetricAsString(name: string): Promise<string> }, name: string, labels: Record<string, string> = {}): Promise<number> {
  // A histogram's samples (_bucket, _sum, _count) live under its base name.
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const text = await registry.getSingleMetricAsString(name).catch(() => registry.getSingleMetricAsString(base));
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^(\S+?)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

function until(farm: Farm, id: string, done: (c: CampaignSnapshot) => boolean): Promise<CampaignSnapshot> {
  return new Promise((resolve) => {
    const stop = farm.watch(id, (e) => { if (done(e.campaign)) { queueMicrotask(() => stop()); resolve(e.campaign); } });
  });
}

function engine(names: string[], delayMs: number) {
  const bus = new MemoryBus();
  const observability = new Observability({ processMetrics: false });
  const farm = new Farm({ bus, recordsPath: join(dir, 'records.jsonl'), settleMs: 0, observer: observability.observer });
  observability.attach(farm);
  const agents = names.map((name, i) => {
    const metrics = new AgentMetrics({ agent: name, deviceClass: 'sim', processMetrics: false });
    const agent = new Agent({ name, backend: new SimBackend({ seed: i, delayMs }), bus, capacity: 4, observer: metrics.observer });
    metrics.attach(agent);
    agent.start();
    farm.addLocalAgent(agent);
    return { agent, metrics };
  });
  farm.start();
  cleanups.push(async () => {
    for (const a of agents) { await a.agent.stop(1_000); a.metrics.close(); }
    observability.close();
    await farm.close();
    await bus.close();
  });
  return { farm, agents, observability, metrics: observability.metrics };
}

test('coordinator and agent counters match the campaign; a lost agent\'s in-flight work counts as re-dispatched', async () => {
  const { farm, agents, metrics } = engine(['keeper', 'goner'], 4);
  const trials = 60;
  const { id } = farm.submit({ op: 'gemm', shape: { M: 64, N: 64, K: 64 }, targets: ['sim'], trials, seed: 5 });
  await until(farm, id, (c) => c.targets[0].measured >= 12);
  const inFlight = farm.dispatcher.inFlightOn('goner');
  expect(inFlight).toBeGreaterThan(0);
  await agents[1].agent.stop(0);
  farm.registry.markLost(farm.registry.get('goner')!, 'test');
  expect(await value(metrics.registry, 'flexfarm_redispatches_total', { reason: 'agent_lost', device_class: 'sim' })).toBe(inFlight);
  expect(await value(metrics.registry, 'flexfarm_agents', { device_class: 'sim', state: 'lost' })).toBe(1);

  const final = await until(farm, id, (c) => c.state !== 'running');
  expect(final.state).toBe('done');
  const r = metrics.registry;
  expect(await value(r, 'flexfarm_measurements_total')).toBe(trials);
  expect(readRecords(join(dir, 'records.jsonl'))).toHaveLength(trials);
  const valid = final.targets[0].valid;
  expect(await value(r, 'flexfarm_measurements_total', { status: 'ok' })).toBe(valid);
  expect(await value(r, 'flexfarm_measure_round_trip_seconds_count')).toBe(trials);
  expect(await value(r, 'flexfarm_explorer_trials', { campaign: id, explorer: 'random' })).toBe(trials);
  expect(await value(r, 'flexfarm_explorer_valid_ratio', { campaign: id })).toBeCloseTo(valid / trials, 10);
  expect(await value(r, 'flexfarm_best_seconds', { campaign: id, device_class: 'sim' })).toBe(final.targets[0].best!.seconds);
  expect(await value(r, 'flexfarm_best_gflops', { campaign: id })).toBeCloseTo(final.targets[0].best!.gflops, 6);
  // random has no ε: the series is absent rather than a made-up value.
  expect(await r.getSingleMetricAsString('flexfarm_explorer_epsilon')).not.toContain(id);
  expect(await value(r, 'flexfarm_in_flight', { device_class: 'sim' })).toBe(0);
  expect(await value(r, 'flexfarm_queue_depth', { device_class: 'sim' })).toBe(0);
  // Per agent: the coordinator applied no more from an agent than that agent measured.
  for (const { agent, metrics: own } of agents) {
    const measuredThere = await value(own.registry, 'flexfarm_agent_measurements_total');
    expect(await value(r, 'flexfarm_measurements_total', { agent: agent.name })).toBeLessThanOrEqual(measuredThere);
    expect(await value(own.registry, 'flexfarm_agent_measure_duration_seconds_count')).toBe(measuredThere);
  }
  expect(await value(agents[0].metrics.registry, 'flexfarm_agent_queue_candidates', { agent: 'keeper' })).toBe(0);
});

test('the q explorer\'s ε and training loss are exported', async () => {
  const { farm, metrics } = engine(['q-agent'], 0);
  const trials = 120;
  const { id } = farm.submit({ op: 'gemm', shape: { M: 64, N: 64, K: 64 }, targets: ['sim'], trials, seed: 3, explorer: 'q' });
  await until(farm, id, (c) => c.state !== 'running');
  const final = farm.get(id);
  const epsilon = await value(metrics.registry, 'flexfarm_explorer_epsilon', { campaign: id, explorer: 'q' });
  // ε decays from 0.8 toward 0.1 once the walkers start; the loss is a mean squared error.
  expect(epsilon).toBeGreaterThanOrEqual(0.1);
  expect(epsilon).toBeLessThan(0.8);
  const loss = await value(metrics.registry, 'flexfarm_explorer_loss', { campaign: id, explorer: 'q' });
  expect(loss).toBeGreaterThan(0);
  expect(Number.isFinite(loss)).toBe(true);
  expect(await value(metrics.registry, 'flexfarm_explorer_trials', { campaign: id })).toBe(final.targets[0].measured);
});

test('the redispatch reason label is the dispatcher\'s requeue cause', async () => {
  const metrics = new CoordinatorMetrics({ processMetrics: false });
  const work = { candidate: { id: 'c/sim/1', workload: 'w', target: 'sim' as const, config: {} }, protocol: { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 1, runTimeoutMs: 1 }, attempts: 1 };
  metrics.observer.requeued!(work, { cause: 'deadline', agent: 'cpu-a' });
  metrics.observer.requeued!(work, { cause: 'agent_lost', agent: 'cpu-a', detail: 'restarted' });
  metrics.observer.requeued!(work, { cause: 'agent_lost', agent: 'cpu-b', detail: 'no heartbeat for 3100 ms' });
  expect(await value(metrics.registry, 'flexfarm_redispatches_total', { reason: 'deadline', device_class: 'sim' })).toBe(1);
  expect(await value(metrics.registry, 'flexfarm_redispatches_total', { reason: 'agent_lost', device_class: 'sim' })).toBe(2);
});

test('the page\'s routes: the page and its files, every measurement of a campaign, server-sent events; nothing else', async () => {
  const { farm, observability } = engine(['solo'], 1);
  const http = await CoordinatorHttpServer.start({ farm, listen: '127.0.0.1:0' });
  observability.serve(http);
  cleanups.push(() => http.stop());
  const { id } = farm.submit({ op: 'gemm', shape: { M: 32, N: 32, K: 32 }, targets: ['sim'], trials: 25, seed: 1 });
  const final = await until(farm, id, (c) => c.state !== 'running');
  const base = `http://${http.address}`;

  const page = await fetch(`${base}/`);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await page.text();
  for (const src of [...html.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)].map((m) => m[1])) {
    const res = await fetch(`${base}${src}`);
    expect(`${src} ${res.status}`).toBe(`${src} 200`);
  }
  expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/); // nothing from the internet
  expect((await fetch(`${base}/static/..%2f..%2fpackage.json`)).status).toBe(404);
  expect((await fetch(`${base}/static/index.html`)).status).toBe(404);
  const missing = await fetch(`${base}/no/such/page`);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toEqual({ error: 'no route /no/such/page' });
  expect((await fetch(`${base}/api/measurements/nope`)).status).toBe(404);

  const { points } = await (await fetch(`${base}/api/measurements/${id}`)).json() as { points: { n: number; t: string; g: number | null; e: string | null; a: string }[] };
  expect(points.map((p) => p.n)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  expect(points.every((p) => p.t === 'sim' && p.a === 'solo')).toBe(true);
  expect(Math.max(...points.map((p) => p.g ?? 0))).toBeCloseTo(final.targets[0].best!.gflops, 6);
  expect(points.filter((p) => p.e === null).length).toBe(final.targets[0].valid);

  const metrics = await (await fetch(`${base}/metrics`)).text();
  expect(metrics).toContain(`flexfarm_explorer_trials{campaign="${id}",device_class="sim",explorer="random"} 25`);

  // Server-sent events: the stream opens with the campaigns and the agents.
  const controller = new AbortController();
  const events = await fetch(`${base}/api/events`, { signal: controller.signal });
  expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = events.body!.getReader();
  let text = '';
  while (!text.includes('event: agents')) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  expect(text).toMatch(new RegExp(`event: campaigns\\ndata: \\[.*"id":"${id}".*\\]\\n\\n`));
  expect(text).toMatch(/event: agents\ndata: \[.*"name":"solo".*\]\n\n/);
});

test('compile and run durations come from real compiler and timing runs; cached binaries are not counted as compiles', async () => {
  const metrics = new AgentMetrics({ agent: 'local', deviceClass: 'cpu', processMetrics: false });
  cleanups.push(() => metrics.close());
  const def = defineWorkload('gemm', { M: 16, N: 12, K: 8 });
  const backend = () => createCpuBackend({ cacheDir: join(dir, 'cache'), threads: 1 });
  const protocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 10_000 };
  const once = (name: string) => tune({ def, backend: backend(), trials: 3, seed: 7, recordsPath: join(dir, `${name}.jsonl`), outDir: join(dir, name), protocol });
  // Timing runs: every candidate that ran, re-measurements after the search included, and a second
  // run for each one whose repeats scattered too much (re-timed).
  const runs = (name: string) => readLines(join(dir, `${name}.jsonl`)).filter((r) => r.candidateId)
    .filter((r) => !r.error || ['RUNTIME', 'WRONG_ANSWER', 'RUN_TIMEOUT'].includes(r.error.code))
    .reduce((n, r) => n + (r.retimed ? 2 : 1), 0);
  await once('first');
  const results = readRecords(join(dir, 'first.jsonl')).filter((r) => r.candidateId);
  const ran = runs('first');
  const compiles = await value(metrics.registry, 'flexfarm_agent_compile_duration_seconds_count');
  // Each candidate's kernel, plus the unscheduled reference kernel once (re-measurements hit the cache).
  expect(compiles).toBe(results.length + 1);
  expect(await value(metrics.registry, 'flexfarm_agent_compile_duration_seconds_sum')).toBeGreaterThan(0.01 * compiles);
  expect(await value(metrics.registry, 'flexfarm_agent_run_duration_seconds_count')).toBe(ran);
  // Same seed, same cache: the same kernels come from the cache, and are timed again.
  await once('second');
  expect(await value(metrics.registry, 'flexfarm_agent_compile_duration_seconds_count')).toBe(compiles);
  expect(await value(metrics.registry, 'flexfarm_agent_run_duration_seconds_count')).toBe(ran + runs('second'));
});
