// The sim backend: deterministic seconds for CPU-template configs, marked simulated, invalid
// configs as INSTANTIATION results, and a landscape with the structure of a real CPU.
import { describe, expect, it } from 'vitest';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { DEFAULT_PROTOCOL, type Candidate } from '../contracts/result.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import type { Config } from '../tensor/templates/template.ts';

const gemm = defineWorkload('gemm', { M: 1024, N: 1024, K: 1024 });
const candidate = (config: Config, workload = gemm.key): Candidate => ({ id: 'c1', workload, target: 'sim', config });

/** A schedule a CPU expert would write: 64 parallel tasks, 4x32 register tile vectorised on n,
 *  cache tiles of 128x128 over k blocks of 256. */
const GOOD: Config = { 'split.m': [8, 4, 8, 4], 'split.n': [8, 4, 1, 32], 'split.k': [4, 64, 4], reorder: 0, unroll: [512, 1] };
/** Everything in the outer level: one task, no vector, no tile. */
const NAIVE: Config = { 'split.m': [1024, 1, 1, 1], 'split.n': [1024, 1, 1, 1], 'split.k': [1024, 1, 1], reorder: 0, unroll: [0, 0] };

describe('sim backend', () => {
  it('is deterministic for a seed and config, and marks every result simulated', async () => {
    const a = await new SimBackend({ seed: 7 }).measure(candidate(GOOD), DEFAULT_PROTOCOL);
    const b = await new SimBackend({ seed: 7 }).measure(candidate({ ...GOOD }), DEFAULT_PROTOCOL);
    expect(a.error).toBeNull();
    expect(a.seconds).toEqual(b.seconds);
    expect(a.seconds).toHaveLength(DEFAULT_PROTOCOL.repeat);
    expect(a.median).toBe(b.median);
    expect(a.simulated).toBe(true);
    expect(a.target).toBe('sim');
    expect(a.device.kind).toBe('sim');
    expect(a.device.model).toMatch(/simulated/);
    expect(a.toolchain).toMatch(/sim/);
  });

  it('the noise seed moves the time by a few percent, not more', async () => {
    const times = [];
    for (let seed = 0; seed < 8; seed++) times.push((await new SimBackend({ seed }).measure(candidate(GOOD), DEFAULT_PROTOCOL)).median!);
    expect(new Set(times).size).toBeGreaterThan(1);
    expect(Math.max(...times) / Math.min(...times)).toBeLessThan(1.06);
  });

  it('reports an invalid config as INSTANTIATION naming the knob, and goes on', async () => {
    const sim = new SimBackend();
    const bad = await sim.measure(candidate({ ...GOOD, 'split.m': [8, 4, 8, 8] }), DEFAULT_PROTOCOL);
    expect(bad.error?.code).toBe('INSTANTIATION');
    expect(bad.error?.message).toMatch(/split\.m/);
    expect(bad.median).toBeNull();
    expect(bad.seconds).toEqual([]);
    expect(bad.simulated).toBe(true);
    const tooBig = await sim.measure(candidate({ ...GOOD, 'split.m': [1, 1, 1, 1024], 'split.n': [1, 1, 1, 1024] }), DEFAULT_PROTOCOL);
    expect(tooBig.error?.code).toBe('INSTANTIATION');
    expect(tooBig.error?.message).toMatch(/register tile/);
    const unknown = await sim.measure(candidate(GOOD, 'gemm(M=0,N=1,K=1,dtype=float32)'), DEFAULT_PROTOCOL);
    expect(unknown.error?.code).toBe('INSTANTIATION');
    expect(unknown.error?.message).toMatch(/M/);
    const fine = await sim.measure(candidate(GOOD), DEFAULT_PROTOCOL);
    expect(fine.error).toBeNull();
  });

  it('has the structure of a CPU: tiling, vectors and parallelism each matter', async () => {
    const sim = new SimBackend({ seed: 1 });
    const time = async (config: Config) => (await sim.measure(candidate(config), DEFAULT_PROTOCOL)).median!;
    const good = await time(GOOD);
    expect(await time(NAIVE)).toBeGreaterThan(50 * good);
    // the vector axis: 32 lanes on the contiguous n axis vs the tile on m alone (A is read
    // with a stride along m: gathers) vs only 4 lanes used on n
    expect(await time({ ...GOOD, 'split.m': [8, 4, 1, 32], 'split.n': [8, 4, 32, 1] })).toBeGreaterThan(2 * good);
    expect(await time({ ...GOOD, 'split.m': [8, 1, 4, 32], 'split.n': [8, 4, 8, 4] })).toBeGreaterThan(2 * good);
    // parallel balance: 4 tasks on 8 cores
    expect(await time({ ...GOOD, 'split.m': [1, 32, 8, 4], 'split.n': [4, 8, 1, 32] })).toBeGreaterThan(1.6 * good);
    // a register tile that spills
    expect(await time({ ...GOOD, 'split.m': [8, 1, 4, 32], 'split.n': [8, 1, 1, 128] })).toBeGreaterThan(1.5 * good);
    const reference = await sim.reference(gemm, DEFAULT_PROTOCOL);
    expect(reference.seconds).toBeGreaterThan(50 * good);
    expect(reference.gflops).toBeCloseTo(gemm.flops / reference.seconds / 1e9, 6);
  });

  it('describes itself as a simulated device and renders the CPU source of a config', () => {
    const sim = new SimBackend({ cores: 4 });
    expect(sim.kind).toBe('sim');
    expect(sim.describe()).toMatchObject({ kind: 'sim', cores: 4 });
    expect(sim.describe().model).toMatch(/simulated 4-core/);
    const source = sim.source(gemm, GOOD);
    expect(source).toMatch(/sim target/);
    expect(source).toMatch(/#pragma omp parallel for/);
  });

  it('waits delayMs per measurement when asked (for farm benchmarks)', async () => {
    const sim = new SimBackend({ delayMs: 30 });
    const started = performance.now();
    await sim.measure(candidate(GOOD), DEFAULT_PROTOCOL);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(() => new SimBackend({ delayMs: -1 })).toThrow(/delayMs/);
    expect(() => new SimBackend({ cores: 0 })).toThrow(/cores/);
  });
});
