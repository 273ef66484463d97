// The engine in one process (in-process bus and agents): when the only agent of a target's kind
// is lost mid-campaign, the target waits — in get, list, watch and the metric — with a message
// naming the lost agent; an agent of the kind coming up clears it and the campaign completes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { Agent } from '../../agent/agent.ts';
import { SimBackend } from '../../agent/backends/sim/sim-backend.ts';
import { MemoryBus } from '../../contracts/bus-memory.ts';
import type { CampaignSnapshot } from '../../coordinator/campaign.ts';
import { Farm } from '../../coordinator/farm/farm.ts';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import { counterValue } from '../helpers/forge.ts';

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'flexfarm-waiting-')); });
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function simAgent(bus: MemoryBus, name: string): Agent {
  const agent = new Agent({ name, backend: new SimBackend({ seed: 1, delayMs: 5 }), bus, capacity: 4 });
  agent.start();
  cleanups.push(() => agent.stop(1_000));
  return agent;
}

/** The first watch event that satisfies `done`, within a bounded time. */
function until(farm: Farm, id: string, what: string, done: (c: CampaignSnapshot) => boolean, timeoutMs = 20_000): Promise<CampaignSnapshot> {
  return new Promise((resolve, reject) => {
    let stop = () => {};
    const timer = setTimeout(() => { stop(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(farm.get(id))}`)); }, timeoutMs);
    stop = farm.watch(id, (e) => {
      if (!done(e.campaign)) return;
      clearTimeout(timer);
      queueMicrotask(() => stop());
      resolve(e.campaign);
    });
  });
}

test('the only agent of a kind lost: the target waits, says which agent and since when, and resumes with a new one', async () => {
  const bus = new MemoryBus();
  const lines: string[] = [];
  const metrics = new CoordinatorMetrics({ processMetrics: false });
  const farm = new Farm({ bus, recordsPath: join(dir, 'records.jsonl'), settleMs: 0, observer: metrics.observer, log: (l) => lines.push(l) });
  metrics.attach(farm);
  cleanups.push(() => farm.close());
  const only = simAgent(bus, 'only');
  farm.addLocalAgent(only);
  farm.start();
  const waitingGauge = async (kind: string) => counterValue(await metrics.scrape(), 'flexfarm_campaign_targets_waiting', { device_class: kind });
  // Present at 0 for every class before anything waits.
  expect(await metrics.scrape()).toMatch(/^flexfarm_campaign_targets_waiting\{device_class="cpu"\} 0$/m);
  expect(await waitingGauge('sim')).toBe(0);

  const trials = 60;
  const { id } = farm.submit({ op: 'gemm', shape: { M: 64, N: 64, K: 64 }, targets: ['sim'], trials, seed: 3 });
  const midway = await until(farm, id, '10 measurements', (c) => c.targets[0].measured >= 10);
  expect(midway.targets[0].state).toBe('running');
  await only.stop(0);
  farm.registry.markLost(farm.registry.get('only')!, 'test');

  const waiting = await until(farm, id, 'the target to wait', (c) => c.targets[0].state === 'waiting', 5_000);
  expect(waiting.state).toBe('running');
  expect(waiting.targets[0].message).toMatch(/^waiting: no sim agent up — only lost \d+ s ago; [1-9]\d* queued$/);
  expect(waiting.message).toBe(waiting.targets[0].message);
  for (const c of [farm.get(id), farm.list().find((x) => x.id === id)!]) {
    expect(c.targets[0].state).toBe('waiting');
    expect(c.message).toMatch(/^waiting: no sim agent up — only lost \d+ s ago; /);
  }
  expect(await waitingGauge('sim')).toBe(1);
  expect(await waitingGauge('cpu')).toBe(0);
  // The log says it at the farm's next tick.
  await expect.poll(() => lines.some((l) => l.startsWith(`campaign ${id}: waiting: no sim agent up — only lost`)), { timeout: 5_000 }).toBe(true);
  // Watchers get a fresh snapshot while it waits, so "lost N s ago" keeps counting.
  const later = await until(farm, id, 'the message to age', (c) => /only lost [1-9]\d* s ago/.test(c.message ?? ''), 5_000);
  expect(later.targets[0].state).toBe('waiting');

  const fresh = simAgent(bus, 'fresh');
  farm.addLocalAgent(fresh);
  const resumed = await until(farm, id, 'the target to run again', (c) => c.targets[0].state !== 'waiting', 5_000);
  expect(resumed.message).toBeUndefined();
  expect(await waitingGauge('sim')).toBe(0);
  await expect.poll(() => lines, { timeout: 5_000 }).toContain(`campaign ${id}: sim running again (fresh up)`);
  const final = await until(farm, id, 'the campaign to end', (c) => c.state !== 'running');
  expect(final.state).toBe('done');
  expect(final.targets[0]).toMatchObject({ measured: trials, state: 'done' });
  expect(final.message).toBeUndefined();
});
