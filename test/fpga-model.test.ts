// The analytical FPGA model behaves as the hardware does: the PE array scales compute until a
// budget or a memory port binds, loop-carried dependences and mismatched partitions raise the II,
// over-budget configs are rejected, and time is cycles over the clock.
import { describe, expect, it } from 'vitest';
import { estimatePlan, iiLimits, operatorLatency, type FpgaTarget } from '../agent/backends/fpga/model.ts';
import { fpgaPart, peakGflops, UnknownPartError } from '../agent/backends/fpga/parts.ts';
import { createFpgaBackend, FpgaOptionError } from '../agent/backends/fpga/fpga-backend.ts';
import { InstantiationError } from '../tensor/errors.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { checkPlan, fpgaTemplate } from '../tensor/templates/fpga.ts';
import { planFpga } from '../tensor/templates/fpga-plan.ts';
import { DSP_PER_MAC, estimateResources } from '../tensor/templates/fpga-resources.ts';
import type { Config } from '../tensor/templates/template.ts';

const vu9p = fpgaPart('xcvu9p');
const target: FpgaTarget = { part: vu9p, clockMhz: 300 };
const budget = (part = vu9p) => ({ dsp: part.dsp, bram18: part.bram18, lut: part.lut, ff: part.ff, uram: part.uram });
const gemm = defineWorkload('gemm', { M: 256, N: 256, K: 256 });
const PARTITION = { cyclic: 0, block: 1, complete: 2, none: 3 } as const;

/** gemm with a 64 x 256 output tile: m unrolled 16 (serial 4), n unrolled `lanes` (the rest serial). */
function peConfig(lanes: number, partition: number = PARTITION.cyclic): Config {
  return { 'split.m': [4, 4, 16], 'split.n': [1, 256 / lanes, lanes], 'split.k': [4, 64, 1], order: 1, ii: 1, partition, burst: 16 };
}
const estimate = (config: Config, def = gemm) => estimatePlan(planFpga(def, config), target);

describe('FPGA model: the PE array', () => {
  it('doubling the PE array halves the compute cycles until the DSP budget binds', () => {
    let previous: number | null = null;
    for (const lanes of [1, 2, 4, 8, 16, 32, 64]) {
      const plan = planFpga(gemm, peConfig(lanes));
      expect(() => checkPlan(plan, budget())).not.toThrow();
      const e = estimatePlan(plan, target);
      expect(e.breakdown.ii.achieved).toBe(1);
      if (previous !== null) {
        const ratio = previous / e.breakdown.computeCycles;
        expect(ratio).toBeGreaterThan(1.9);
        expect(ratio).toBeLessThanOrEqual(2.01);
      }
      previous = e.breakdown.computeCycles;
    }
    // 16 x 128 PEs need 2048 multiply-adds of 5 DSPs each: 10,240 DSPs, the VU9P has 6,840.
    expect(() => checkPlan(planFpga(gemm, peConfig(128)), budget())).toThrow(/needs 10240 DSP slices, the part has 6840/);
  });

  it('with unpartitioned buffers a memory port binds: more PEs, no fewer cycles', () => {
    const one = estimate(peConfig(1, PARTITION.none)), two = estimate(peConfig(2, PARTITION.none));
    // 16 PEs read-modify-write 16 accumulators of one 2-port bank: 16 cycles per iteration.
    expect(one.breakdown.ii.memory).toBe(16);
    expect(two.breakdown.ii.memory).toBe(32);
    expect(two.breakdown.computeCycles / one.breakdown.computeCycles).toBeGreaterThan(0.98);
  });

  it('a target II above 1 shares operators: DSPs fall by the II, the pipeline slows by it', () => {
    const base = peConfig(16);
    const ii1 = estimate(base), ii2 = estimate({ ...base, ii: 2 });
    expect(ii2.resources.dsp).toBe(ii1.resources.dsp / 2);
    expect(ii2.breakdown.computeCycles / ii1.breakdown.computeCycles).toBeGreaterThan(1.9);
    // 16 x 16 PEs at 5 DSPs per multiply-add.
    expect(ii1.resources.dsp).toBe(16 * 16 * DSP_PER_MAC);
  });
});

describe('FPGA model: initiation interval', () => {
  it('a loop-carried dependence raises II: reduce loops innermost update one accumulator every iteration', () => {
    const spatialInner = estimate({ ...peConfig(16), order: 1 });
    const reduceInner = estimate({ ...peConfig(16), order: 0 });
    const fadd = operatorLatency('fadd', target.clockMhz);
    expect(spatialInner.ii).toBe(1);
    expect(reduceInner.breakdown.ii.recurrence).toBe(fadd + 1);
    expect(reduceInner.ii).toBe(fadd + 1);
    expect(reduceInner.breakdown.computeCycles).toBeGreaterThan(4 * spatialInner.breakdown.computeCycles);
    // The recurrence is spread over the spatial iterations between two updates of one element:
    // 2 of them (n serial 2, m serial 1) still bind, 8 do not.
    const few = planFpga(gemm, { 'split.m': [16, 1, 16], 'split.n': [128, 2, 1], 'split.k': [4, 64, 1], order: 1, ii: 1, partition: 0, burst: 16 });
    expect(iiLimits(few, fadd).recurrence).toBe(Math.ceil((fadd + 1) / 2));
    const many = planFpga(gemm, { 'split.m': [16, 1, 16], 'split.n': [32, 8, 1], 'split.k': [4, 64, 1], order: 1, ii: 1, partition: 0, burst: 16 });
    expect(iiLimits(many, fadd).recurrence).toBe(1);
  });

  it('a partition that does not match the unroll limits II: block vs cyclic vs complete', () => {
    const cyclic = estimate(peConfig(8, PARTITION.cyclic));
    const block = estimate(peConfig(8, PARTITION.block));
    const complete = estimate({ ...peConfig(8, PARTITION.complete), 'split.m': [64, 1, 4], 'split.n': [32, 1, 8], 'split.k': [256, 1, 1] });
    expect(cyclic.breakdown.ii.memory).toBe(1);
    // Block banks hold runs of consecutive rows: the 16 m lanes fall 4 to a bank.
    expect(block.breakdown.ii.memory).toBeGreaterThanOrEqual(4);
    expect(block.breakdown.computeCycles).toBeGreaterThan(3.5 * cyclic.breakdown.computeCycles);
    expect(complete.breakdown.ii.memory).toBe(1);
  });

  it('strided convolution lanes are matched too: cyclic banks cover the lanes\' span', () => {
    const conv = defineWorkload('conv2d', { N: 1, C: 16, H: 28, W: 28, K: 16, R: 3, S: 3, stride: 2, pad: 1 });
    const config: Config = { 'split.n': [1, 1, 1], 'split.k': [1, 4, 4], 'split.h': [1, 14, 1], 'split.w': [1, 2, 7], 'split.c': [2, 8, 1], 'split.r': [1, 3, 1], 'split.s': [1, 1, 3], order: 1, ii: 1, partition: PARTITION.cyclic, burst: 8 };
    expect(estimate(config, conv).breakdown.ii.memory).toBe(1);
    expect(estimate({ ...config, partition: PARTITION.none }, conv).breakdown.ii.memory).toBeGreaterThan(10);
  });
});

describe('FPGA model: budgets, clock and bandwidth', () => {
  it('over-budget configs are rejected: DSPs, BRAM, and a part too small for a config that fits the VU9P', () => {
    const big = defineWorkload('gemm', { M: 2048, N: 2048, K: 64 });
    // One 2048 x 2048 output tile: 4M floats, far over the VU9P's 4,320 BRAM18s.
    const tile = { 'split.m': [1, 2048, 1], 'split.n': [1, 128, 16], 'split.k': [1, 64, 1], order: 1, ii: 1, partition: 0, burst: 16 };
    expect(() => fpgaTemplate.check(big, tile, budget())).toThrow(/BRAM18 blocks, the part has 4320/);
    const fits = peConfig(4);
    expect(() => fpgaTemplate.check(gemm, fits, budget())).not.toThrow();
    const z7020 = fpgaPart('xc7z020');
    expect(() => fpgaTemplate.check(gemm, fits, budget(z7020))).toThrow(InstantiationError);
    expect(() => fpgaTemplate.check(gemm, fits, budget(z7020))).toThrow(/the part has 220/);
  });

  it('seconds = cycles / clock; a faster clock needs deeper operators', () => {
    const plan = planFpga(gemm, peConfig(16));
    const at300 = estimatePlan(plan, target), at150 = estimatePlan(plan, { part: vu9p, clockMhz: 150 });
    expect(at300.seconds).toBeCloseTo(at300.cycles / 300e6, 15);
    expect(at150.seconds).toBeCloseTo(at150.cycles / 150e6, 15);
    expect(operatorLatency('fadd', 300)).toBeGreaterThan(operatorLatency('fadd', 100));
    expect(at300.breakdown.depth).toBeGreaterThan(at150.breakdown.depth);
  });

  it('burst copies are bounded by the board\'s bandwidth per clock and by the buffer banks', () => {
    const wide = estimate({ ...peConfig(16), burst: 16 }), narrow = estimate({ ...peConfig(16), burst: 1 });
    expect(narrow.breakdown.transferCycles).toBeGreaterThan(4 * wide.breakdown.transferCycles);
    // The Zynq-7020's DDR3 moves 4.2 GB/s: at 100 MHz 42 bytes per cycle, under a 16-float burst.
    const z = fpgaPart('xc7z020');
    const slow = estimatePlan(planFpga(gemm, peConfig(16)), { part: z, clockMhz: 100 });
    const copy = slow.loops.find((l) => l.name === 'L_B_buf_c')!;
    expect(copy.ii).toBe(2);
  });

  it('resources grow with the PE array and the buffers', () => {
    const small = estimateResources(planFpga(gemm, peConfig(2))), large = estimateResources(planFpga(gemm, peConfig(32)));
    expect(large.dsp).toBe(16 * small.dsp);
    expect(large.lut).toBeGreaterThan(small.lut);
    expect(large.ff).toBeGreaterThan(small.ff);
  });
});

describe('FPGA parts and agent options', () => {
  it('parts carry published budgets; the DSP-bound peak follows the clock', () => {
    expect(budget()).toEqual({ dsp: 6840, bram18: 4320, lut: 1_182_240, ff: 2_364_480, uram: 960 });
    expect(fpgaPart('XCVU9P-FLGB2104-2-I')).toBe(vu9p);
    expect(peakGflops(vu9p, 300, DSP_PER_MAC)).toBeCloseTo(820.8, 6);
    expect(() => fpgaPart('xc9999')).toThrow(UnknownPartError);
    expect(() => fpgaPart('xc9999')).toThrow(/known: xcvu9p, xcu250/);
  });

  it('--part and --clock-mhz select the budgets and the clock; bad values are clear errors', () => {
    const b = createFpgaBackend({ cacheDir: '/nonexistent', part: 'xcu280', clockMhz: 250, estimator: 'model', csim: false });
    expect(b.limits).toMatchObject({ dsp: 9024, bram18: 4032 });
    expect(b.describe().peakGflops).toBeCloseTo(peakGflops(fpgaPart('xcu280'), 250, DSP_PER_MAC), 9);
    expect(b.describe().toolchain).toContain('flexfarm FPGA model');
    expect(() => createFpgaBackend({ cacheDir: '/x', clockMhz: 0, csim: false })).toThrow(FpgaOptionError);
    expect(() => createFpgaBackend({ cacheDir: '/x', part: 'vu99', csim: false })).toThrow(/unknown FPGA part 'vu99'/);
    expect(() => createFpgaBackend({ cacheDir: '/x', estimator: 'vitis_hls', vitisHls: '/nonexistent/vitis_hls', csim: false }))
      .toThrow(/vitis_hls asked for, but '\/nonexistent\/vitis_hls' is not installed/);
  });
});
