// Proof that gcc did what the schedule says: a tuned conv2d and a tuned gemm config are compiled
// for this host and their object code must hold fused multiply-adds on full-width vector
// registers of the host's ISA (zmm with AVX-512, ymm with AVX2) and no gathers, so a change that
// silently loses vectorisation (a strided load in the tile, an accumulator pushed to memory)
// fails here rather than in a benchmark.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuProgram, CPU_FLAGS } from '../agent/backends/cpu/cpu-backend.ts';
import { capSimd, hostCpuFlags, hostSimd } from '../agent/backends/cpu/host-simd.ts';
import { lower } from '../tensor/lower.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { cpuTemplate } from '../tensor/templates/cpu.ts';
import type { Config } from '../tensor/templates/template.ts';

const dir = mkdtempSync(join(tmpdir(), 'flexfarm-vector-code-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const simd = hostSimd();
const lanes = simd.vectorWidth;
const register = ({ 16: 'zmm', 8: 'ymm', 4: 'xmm' } as Record<number, string>)[lanes];
const limits = { vectorWidth: lanes, vectorRegisters: simd.vectorRegisters, threads: 2 };

/** The instructions of the kernel and its OpenMP-outlined parallel bodies. */
function kernelCode(name: string, def: ReturnType<typeof defineWorkload>, config: Config, width = lanes, extraFlags: string[] = []): string[] {
  const source = join(dir, `${name}.c`), binary = join(dir, name);
  writeFileSync(source, cpuProgram(def, lower(def, cpuTemplate, config, { ...limits, vectorWidth: width }), '', width));
  const cc = spawnSync('gcc', [...CPU_FLAGS, ...extraFlags, source, '-o', binary, '-lm'], { encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
  const dump = spawnSync('objdump', ['-d', '--no-show-raw-insn', binary], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(dump.status).toBe(0);
  const lines: string[] = [];
  let inKernel = false;
  for (const line of dump.stdout.split('\n')) {
    const header = /^[0-9a-f]+ <([^>]+)>:$/.exec(line);
    if (header) inKernel = /^kernel(\._omp_fn\.\d+)?$/.test(header[1]);
    else if (inKernel && line.trim()) lines.push(line);
  }
  return lines;
}

const fmaOnFullWidth = (code: string[]) => code.filter((l) => /\bvfmadd\d+ps\b/.test(l) && l.includes(`%${register}`)).length;
const gathers = (code: string[]) => code.filter((l) => /\bv(p)?gather/.test(l));

describe.skipIf(!register)(`object code on this host (${simd.isa}, ${lanes} floats per vector)`, () => {
  it('tuned gemm: FMAs on full-width registers, no gathers', () => {
    const def = defineWorkload('gemm', { M: 256, N: 256, K: 256 });
    const code = kernelCode('gemm', def, {
      'split.m': [2, 4, 4, 8], 'split.n': [1, 256 / (2 * lanes), 1, 2 * lanes], 'split.k': [1, 1, 256],
      reorder: 1, unroll: [512, 0], vector: 1, 'pack.B': 1,
    });
    expect(fmaOnFullWidth(code)).toBeGreaterThanOrEqual(8);
    expect(gathers(code)).toEqual([]);
  });

  const conv = defineWorkload('conv2d', { N: 1, C: 32, H: 14, W: 14, K: 64, R: 3, S: 3, stride: 1, pad: 1 });
  const convTile: Config = {
    'split.n': [1, 1, 1, 1], 'split.k': [64 / (2 * lanes), 1, 1, 2 * lanes], 'split.h': [2, 7, 1, 1], 'split.w': [1, 1, 2, 7],
    'split.c': [1, 1, 32], 'split.r': [1, 1, 3], 'split.s': [1, 1, 3], reorder: 1, unroll: [512, 0], 'pad.I': 1,
  };

  it('tuned conv2d (packed weights, padding stage, vector axis k): FMAs on full-width registers, no gathers', () => {
    const code = kernelCode('conv2d', conv, { ...convTile, vector: 1, 'pack.W': 1 });
    expect(fmaOnFullWidth(code)).toBeGreaterThanOrEqual(14);
    expect(gathers(code)).toEqual([]);
  });

  it('the check can fail: the same tile vectorised along the 7-wide row runs on partial vectors', () => {
    expect(fmaOnFullWidth(kernelCode('conv2d-scalar', conv, { ...convTile, vector: 3 }))).toBeLessThan(14);
  });
});

// --isa avx2 on an AVX-512 host: the AVX2 code path, nothing wider (or its figures would be AVX-512's).
const hostFlags = hostCpuFlags();
describe.skipIf(!hostFlags.includes('avx512f') || !hostFlags.includes('avx2'))('an ISA cap below the host (avx2 on AVX-512)', () => {
  it('the capped build runs its FMAs on ymm registers and touches no zmm', () => {
    const capped = capSimd(hostFlags, 'avx2');
    expect(capped.simd).toEqual({ isa: 'avx2', vectorWidth: 8, vectorRegisters: 16 });
    const def = defineWorkload('gemm', { M: 256, N: 256, K: 256 });
    const code = kernelCode('gemm-avx2', def, {
      'split.m': [2, 4, 8, 4], 'split.n': [1, 16, 1, 16], 'split.k': [1, 1, 256], reorder: 1, unroll: [512, 0], vector: 1, 'pack.B': 1,
    }, capped.simd.vectorWidth, capped.compilerFlags);
    expect(code.filter((l) => /\bvfmadd\d+ps\b/.test(l) && l.includes('%ymm')).length).toBeGreaterThanOrEqual(8);
    expect(code.filter((l) => l.includes('%zmm'))).toEqual([]);
  });
});
