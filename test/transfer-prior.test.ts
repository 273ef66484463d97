// Transfer to the learned cost model (issue 17): the nearest workloads' measurements, adapted to
// the new workload's space and timed relative to their own best (coordinator/transfer-prior.ts),
// are the `model` explorer's prior: it trains on them from its first round, after a one-batch
// warm-up, and finds a fast kernel of the new shape in far fewer measurements than without.
import { describe, expect, it } from 'vitest';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { DEFAULT_PROTOCOL, type MeasureResult } from '../contracts/result.ts';
import { drive } from '../coordinator/explore/drive.ts';
import { ModelExplorer } from '../coordinator/explore/model.ts';
import { RandomExplorer } from '../coordinator/explore/random.ts';
import { configKey } from '../coordinator/keys.ts';
import type { TuningRecord } from '../coordinator/records.ts';
import { Space } from '../coordinator/space.ts';
import { transferPrior } from '../coordinator/transfer-prior.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { cpuClassicTemplate as template } from '../tensor/templates/cpu.ts';
import type { Config } from '../tensor/templates/template.ts';

const sim = new SimBackend({ seed: 3 });
let ids = 0;
const onSim = (def: ComputeDef) => (config: Config): MeasureResult =>
  sim.measureNow({ id: String(ids++), workload: def.key, target: 'sim', config }, DEFAULT_PROTOCOL);
const conv = (C: number, H: number, K: number) => defineWorkload('conv2d', { N: 1, C, H, W: H, K, R: 3, S: 3, pad: 1 });
const target = conv(64, 28, 64);
const sources = [conv(32, 28, 64), conv(64, 14, 128)];
const records = (def: ComputeDef, n: number, seed: number): TuningRecord[] =>
  drive(new RandomExplorer({ space: new Space(template.knobs(def)), seed, budget: n }), onSim(def), n, 32).results.map((r) => ({ ...r, v: 1 }));
const sourceRecords = [...records(sources[0], 150, 1), ...records(sources[1], 150, 2)];

describe('transferPrior', () => {
  const own = records(target, 20, 3);
  const prior = transferPrior([...sourceRecords, ...own], target, template, {}, { target: 'sim' });
  const space = new Space(template.knobs(target));

  it('adapts every source measurement to the new space, each source timed against its own best', () => {
    expect(prior.length).toBeGreaterThan(100);
    expect(prior.every((m) => space.fromConfig(m.config) !== null)).toBe(true);
    expect(prior.every((m) => m.relativeLogSeconds >= 0)).toBe(true);
    // Each source's best is 0: two of them (or one, where both adapt to the same config).
    expect(prior.filter((m) => m.relativeLogSeconds === 0).length).toBeGreaterThanOrEqual(1);
    expect(new Set(prior.map((m) => configKey(m.config))).size).toBe(prior.length);
  });

  it('leaves out the workload itself (that is resume, not transfer) and failed measurements', () => {
    const alone = transferPrior(own, target, template, {}, { target: 'sim' });
    expect(alone).toEqual([]);
    const failed = sourceRecords.map((r) => ({ ...r, median: null, error: { code: 'RUNTIME' as const, message: 'x' } }));
    expect(transferPrior(failed, target, template, {}, { target: 'sim' })).toEqual([]);
  });
});

describe('the model explorer with a prior', () => {
  const prior = transferPrior(sourceRecords, target, template, {}, { target: 'sim' });
  const space = new Space(template.knobs(target));
  const bestAfter = (explorer: ModelExplorer, n: number) =>
    Math.min(...drive(explorer, onSim(target), n, explorer.constants.batch).results.map((r) => r.median ?? Infinity));

  it('warms up for one batch only and trains on the prior from its first round', () => {
    const explorer = new ModelExplorer({ space, seed: 1, budget: 200, prior });
    expect(explorer.priorSize).toBe(prior.length);
    expect(explorer.constants.warmup).toBe(explorer.constants.batch);
    const without = new ModelExplorer({ space, seed: 1, budget: 200 });
    expect(without.constants.warmup).toBeGreaterThan(without.constants.batch);
    drive(explorer, onSim(target), 2 * explorer.constants.batch, explorer.constants.batch);
    expect(explorer.training.fits).toBeGreaterThanOrEqual(1);
  });

  it('finds a faster kernel in its first 24 measurements than the same short warm-up without it, seed for seed', () => {
    for (const seed of [1, 2, 3]) {
      const withPrior = new ModelExplorer({ space, seed, budget: 200, prior });
      const without = new ModelExplorer({ space, seed, budget: 200, constants: { warmup: withPrior.constants.warmup } });
      expect(bestAfter(withPrior, 24), `seed ${seed}`).toBeLessThan(bestAfter(without, 24));
    }
  });
});
