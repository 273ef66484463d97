// Every timed result shows its noise: the spread of its repeats and the host's load average; a
// timing whose repeats scatter beyond the threshold is timed again with more repeats before the
// result is returned, and the first timing is kept beside it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../agent/backends/cpu/cpu-backend.ts';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import type { TimingProtocol } from '../contracts/result.ts';
import { timingSpread } from '../contracts/timing-spread.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import type { Config } from '../tensor/templates/template.ts';

const PROTOCOL: TimingProtocol = { repeat: 2, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 20_000 };
const GEMM = defineWorkload('gemm', { M: 16, N: 16, K: 8 });
const CONFIG: Config = { 'split.m': [2, 2, 2, 2], 'split.n': [1, 2, 2, 4], 'split.k': [2, 2, 2], reorder: 1, unroll: [512, 1] };
const cacheDir = mkdtempSync(join(tmpdir(), 'flexfarm-noise-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('timingSpread', () => {
  it('gives min, median, max and the coefficient of variation', () => {
    const s = timingSpread([3, 1, 2])!;
    expect(s).toEqual({ min: 1, median: 2, max: 3, cv: 0.5 }); // sample sd 1, mean 2
    expect(timingSpread([0.004])).toEqual({ min: 0.004, median: 0.004, max: 0.004, cv: 0 });
    expect(timingSpread([])).toBeUndefined();
  });
});

describe('a timed result', () => {
  it('carries its spread and the load average; over the threshold it is timed again with more repeats', async () => {
    const always = createCpuBackend({ cacheDir, threads: 1, retime: { aboveCv: -1, repeatFactor: 3 } });
    const r = await always.measure({ id: 'noisy', workload: GEMM.key, target: 'cpu', config: CONFIG }, PROTOCOL);
    expect(r.error).toBeNull();
    expect(r.retimed?.seconds).toHaveLength(2);
    expect(r.retimed!.cv).toBeCloseTo(timingSpread(r.retimed!.seconds)!.cv, 12);
    expect(r.seconds).toHaveLength(6);
    expect(r.spread).toEqual(timingSpread(r.seconds));
    expect(r.median).toBe(r.spread!.median);
    expect(typeof r.loadAverage).toBe('number');
    expect(r.loadAverage).toBeGreaterThanOrEqual(0);
  });

  it('is not timed again while its spread is within the threshold', async () => {
    const never = createCpuBackend({ cacheDir, threads: 1, retime: { aboveCv: Infinity, repeatFactor: 3 } });
    const r = await never.measure({ id: 'quiet', workload: GEMM.key, target: 'cpu', config: CONFIG }, PROTOCOL);
    expect(r.error).toBeNull();
    expect(r.retimed).toBeUndefined();
    expect(r.seconds).toHaveLength(2);
    expect(r.spread).toEqual(timingSpread(r.seconds));
  });

  it('on sim carries the spread of its modelled repeats and no load average (nothing ran on the host)', async () => {
    const r = await new SimBackend().measure({ id: 's', workload: GEMM.key, target: 'sim', config: CONFIG }, { ...PROTOCOL, repeat: 3 });
    expect(r.spread).toEqual(timingSpread(r.seconds));
    expect(r.loadAverage).toBeUndefined();
  });
});
