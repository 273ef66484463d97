// The learned-model explorer's bounded cost (issue 17): it keeps proposing while results are
// outstanding, sizes its rounds to the caller's free capacity, trains on a bounded sample of the
// measurements and only again once enough new results arrived; its feature rows are the space's.
import { describe, expect, it } from 'vitest';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { DEFAULT_PROTOCOL, type MeasureResult } from '../contracts/result.ts';
import type { Measured } from '../coordinator/explore/batch-explorer.ts';
import { drive } from '../coordinator/explore/drive.ts';
import { ModelExplorer } from '../coordinator/explore/model.ts';
import { levelFeatures, PointFeatures } from '../coordinator/explore/point-features.ts';
import { RandomExplorer } from '../coordinator/explore/random.ts';
import { Rng } from '../coordinator/explore/rng.ts';
import { trainingSample } from '../coordinator/explore/training-sample.ts';
import { Space } from '../coordinator/space.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { cpuClassicTemplate as cpuTemplate } from '../tensor/templates/cpu.ts';
import type { Config } from '../tensor/templates/template.ts';

const def = defineWorkload('conv2d', { N: 1, C: 16, H: 14, W: 14, K: 32, R: 3, S: 3, pad: 1 });
const space = new Space(cpuTemplate.knobs(def));
const sim = new SimBackend({ seed: 3 });
let ids = 0;
const onSim = (config: Config): MeasureResult => sim.measureNow({ id: String(ids++), workload: def.key, target: 'sim', config }, DEFAULT_PROTOCOL);

describe('model explorer with results outstanding', () => {
  it('hands out its whole warm-up at once, then waits while nothing valid has come back', () => {
    const explorer = new ModelExplorer({ space, seed: 1, budget: 500 });
    expect(explorer.constants.warmup).toBe(50);
    expect(explorer.next(200)).toHaveLength(50);
    expect(explorer.next(200)).toHaveLength(0); // nothing to learn from yet
  });

  it('proposes while results are outstanding, as many as the caller has room for', () => {
    const explorer = new ModelExplorer({ space, seed: 2, budget: 300, constants: { randomPool: 40, walkSteps: 2 } });
    const warmup = explorer.next(100);
    explorer.update(warmup.map(onSim));
    // Nothing outstanding: one learning round.
    const first = explorer.next(64);
    expect(first).toHaveLength(explorer.constants.batch);
    // Those are outstanding: the free capacity is asked for and given, without their results.
    const more = explorer.next(64);
    expect(more).toHaveLength(64);
    expect(explorer.next(3)).toHaveLength(3);
    // Part of the results back: still more, never a point twice.
    explorer.update(first.map(onSim));
    const after = explorer.next(20);
    expect(after).toHaveLength(20);
    const keys = [...warmup, ...first, ...more, ...after].map((c) => space.pointKey(space.fromConfig(c)!));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('model explorer rounds in a farm', () => {
  it('walks once for what it hands out until the next fit when asked for one at a time', () => {
    const history = drive(new RandomExplorer({ space, seed: 6, budget: 1000 }), onSim, 1000, 64).results;
    const explorer = new ModelExplorer({ space, seed: 6, budget: 2000, history, constants: { randomPool: 40, walkSteps: 2 } });
    const c = explorer.constants;
    // Nothing outstanding: the learning step, `batch` points, fit on the 1,000 measurements.
    expect(explorer.next(64)).toHaveLength(c.batch);
    expect(explorer.rounds).toEqual({ count: 1, lastSize: c.batch });
    // Outstanding: the next fit is due after 4 % of 1,000 new results; one round covers them.
    const untilRefit = Math.round(c.retrainFraction * 1000);
    expect(untilRefit).toBeGreaterThan(c.batch);
    for (let k = 0; k < untilRefit; k++) expect(explorer.next(1)).toHaveLength(1);
    expect(explorer.rounds).toEqual({ count: 2, lastSize: untilRefit });
  });
});

describe('model explorer training', () => {
  it('trains on a bounded sample of a long history', () => {
    const history = drive(new RandomExplorer({ space, seed: 4, budget: 600 }), onSim, 600, 64).results;
    const explorer = new ModelExplorer({ space, seed: 4, budget: 700, history, constants: { trainingSamples: 128 } });
    expect(explorer.next(8).length).toBeGreaterThan(0);
    expect(explorer.training).toEqual({ fits: 1, samples: 128 });
  });

  it('trains again only once enough new results have arrived', () => {
    const budget = 400;
    const explorer = new ModelExplorer({ space, seed: 5, budget, constants: { randomPool: 40, walkSteps: 2, trainingSamples: 128 } });
    const c = explorer.constants;
    drive(explorer, onSim, budget, c.batch);
    const rounds = Math.ceil((budget - c.warmup) / c.batch);
    expect(explorer.training.fits).toBeGreaterThan(3);
    expect(explorer.training.fits).toBeLessThanOrEqual(Math.ceil((budget - c.warmup) / c.retrainAfter) + 1);
    expect(explorer.training.fits).toBeLessThan(rounds / 2);
    expect(explorer.training.samples).toBeLessThanOrEqual(c.trainingSamples);
  });
});

describe('trainingSample', () => {
  const measured = (n: number): Measured[] => {
    const rng = new Rng(9);
    return Array.from({ length: n }, (_, order) => ({ point: [order], key: String(order), order, seconds: order % 10 === 3 ? null : 1 + rng.float() }));
  };
  const rank = (all: Measured[]) => all.filter((m) => m.seconds !== null).sort((a, b) => a.seconds! - b.seconds! || a.order - b.order);

  it('keeps everything that fits, in arrival order', () => {
    const all = measured(50);
    expect(trainingSample(all, rank(all), 64)).toEqual(all);
  });

  it('takes the fastest quarter, the most recent half and a spread of the rest, in arrival order', () => {
    const all = measured(1000), ranked = rank(all);
    const sample = trainingSample(all, ranked, 200);
    expect(sample).toHaveLength(200);
    expect(sample.map((m) => m.order)).toEqual([...sample.map((m) => m.order)].sort((a, b) => a - b));
    const keys = new Set(sample.map((m) => m.key));
    for (const m of ranked.slice(0, 50)) expect(keys.has(m.key)).toBe(true);
    for (const m of all.slice(-100)) expect(keys.has(m.key)).toBe(true);
    // The spread reaches the slow end and the failures of the old measurements too.
    expect(sample.some((m) => m.order < 900 && m.seconds === null)).toBe(true);
    expect(sample.some((m) => m.order < 900 && m.seconds! > 1.9)).toBe(true);
  });
});

describe('Space filter', () => {
  it('asks the validity filter once per point: walks meet the same neighbours round after round', () => {
    const asked = new Map<string, number>();
    const filtered = new Space(cpuTemplate.knobs(def), { accepts: (c) => {
      const key = JSON.stringify(c);
      asked.set(key, (asked.get(key) ?? 0) + 1);
      return (c.reorder as number) !== 1;
    } });
    const rng = new Rng(2);
    for (let k = 0; k < 20; k++) {
      const p = filtered.randomPoint(rng);
      for (let again = 0; again < 3; again++) for (const n of filtered.neighbours(p)) expect(filtered.toConfig(n).reorder).not.toBe(1);
    }
    expect(asked.size).toBeGreaterThan(100);
    expect(Math.max(...asked.values())).toBe(1);
  });

  it('the model explorer draws its random pool unfiltered, asks only about its picks, and never proposes a refused point', () => {
    let asked = 0;
    const filtered = new Space(cpuTemplate.knobs(def), { accepts: (c) => { asked++; return (c.reorder as number) !== 1; } });
    const explorer = new ModelExplorer({ space: filtered, seed: 7, budget: 120, constants: { randomPool: 300, walkSteps: 1, starts: 1 } });
    const results = drive(explorer, onSim, 120, explorer.constants.batch).results;
    expect(results).toHaveLength(120);
    expect(results.every((r) => r.config.reorder !== 1)).toBe(true);
    // Filtered, 300 random points a round would cost some 300 questions each (of 17 rounds).
    const rounds = explorer.rounds.count;
    expect(rounds).toBeGreaterThan(10);
    expect(asked).toBeLessThan(rounds * 300);
  });
});

describe('PointFeatures', () => {
  it('writes the space features and the level features of a point, value for value', () => {
    const features = new PointFeatures(space);
    const rng = new Rng(11);
    const row = new Float64Array(features.length + 3);
    for (let k = 0; k < 50; k++) {
      const p = space.randomPoint(rng);
      features.write(p, row, 3);
      expect([...row.subarray(3)]).toEqual([...space.features(p), ...levelFeatures(space, p)]);
    }
  });
});
