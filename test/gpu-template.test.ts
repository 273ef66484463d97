// The GPU template's space and validity: FlexTensor's knobs (4-level spatial and 3-level reduce
// splits, fuse, reorder, unroll), the limits a config is checked against before anything is
// compiled, the shared-memory boxes, and the launch shape of the lowered nest.
import { describe, expect, it } from 'vitest';
import { launchShape } from '../agent/backends/gpu/cuda-renderer.ts';
import { Rng } from '../coordinator/explore/rng.ts';
import { Space } from '../coordinator/space.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { InstantiationError } from '../tensor/errors.ts';
import type { Stmt } from '../tensor/ir.ts';
import { lower } from '../tensor/lower.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import {
  DEFAULT_GPU_LIMITS, fuseEntities, gpuGeometry, gpuTemplate, planGpu,
} from '../tensor/templates/gpu.ts';
import type { Config } from '../tensor/templates/template.ts';

const gemm = defineWorkload('gemm', { M: 1024, N: 1024, K: 1024 });
const conv = defineWorkload('conv2d', { N: 1, C: 512, H: 28, W: 28, K: 512, R: 3, S: 3, stride: 2, pad: 1 });
const gemmConfig: Config = {
  'split.m': [8, 2, 16, 4], 'split.n': [8, 2, 16, 4], 'split.k': [128, 2, 4], fuse: [1, 1], reorder: 2, unroll: [512, 1],
};
const convConfig: Config = {
  'split.n': [1, 1, 1, 1], 'split.k': [32, 2, 4, 2], 'split.h': [2, 1, 7, 1], 'split.w': [7, 1, 2, 1],
  'split.c': [128, 2, 2], 'split.r': [1, 1, 3], 'split.s': [1, 3, 1], fuse: [1, 1, 2], reorder: 1, unroll: [1500, 0],
};

function rejects(def: ComputeDef, config: Config, pattern: RegExp, limits = {}) {
  let error: unknown;
  try { gpuTemplate.check(def, config, limits); } catch (err) { error = err; }
  expect(error).toBeInstanceOf(InstantiationError);
  expect((error as Error).message).toMatch(pattern);
}

function collect(s: Stmt, out: Stmt[] = []): Stmt[] {
  out.push(s);
  if (s.k === 'seq') s.body.forEach((b) => collect(b, out));
  if (s.k === 'loop') collect(s.body, out);
  if (s.k === 'if') { collect(s.then, out); if (s.else) collect(s.else, out); }
  return out;
}

describe('GPU knobs', () => {
  it('fuse cuts the spatial axes into min(n, 3) contiguous groups', () => {
    expect(fuseEntities(1)).toEqual([[1]]);
    expect(fuseEntities(2)).toEqual([[1, 1]]);
    expect(fuseEntities(3)).toEqual([[1, 1, 1]]);
    expect(fuseEntities(4)).toEqual([[1, 1, 2], [1, 2, 1], [2, 1, 1]]);
    expect(fuseEntities(5)).toHaveLength(6);
  });

  it('splits spatial axes in 4 levels and reduce axes in 3, plus fuse, reorder and unroll', () => {
    const knobs = gpuTemplate.knobs(conv);
    expect(knobs.map((k) => k.name)).toEqual([
      'split.n', 'split.k', 'split.h', 'split.w', 'split.c', 'split.r', 'split.s', 'fuse', 'reorder', 'unroll',
    ]);
    for (const k of knobs.filter((k) => k.kind === 'split')) {
      expect((k.entities[0] as number[]).length).toBe(k.axis!.reduce ? 3 : 4);
    }
    expect(knobs.find((k) => k.name === 'fuse')!.entities).toHaveLength(3);
    // Imperfect splits: a prime extent still has many choices.
    const prime = defineWorkload('gemm', { M: 127, N: 64, K: 64 });
    expect(gpuTemplate.knobs(prime)[0].entities.length).toBeGreaterThan(50);
    expect(gpuTemplate.knobs(prime, { exactSplits: true })[0].entities.length).toBe(4);
    // A point of the space is a config the template reads.
    const space = new Space(knobs);
    const rng = new Rng(5);
    for (let i = 0; i < 50; i++) expect(() => planGpu(conv, space.toConfig(space.randomPoint(rng)))).not.toThrow();
  });
});

describe('GPU validity is checked before compiling', () => {
  it('accepts a config inside every limit', () => {
    expect(() => gpuTemplate.check(gemm, gemmConfig, DEFAULT_GPU_LIMITS)).not.toThrow();
    expect(() => gpuTemplate.check(conv, convConfig, DEFAULT_GPU_LIMITS)).not.toThrow();
  });

  it('rejects too many threads per block, naming the limit', () => {
    rejects(gemm, { ...gemmConfig, 'split.m': [1, 1, 64, 16], 'split.n': [1, 4, 32, 8] }, /2048 threads per block .* limit of 1024/);
  });

  it('rejects a block dimension over its own limit (z: 64)', () => {
    const batch = defineWorkload('batch_gemm', { B: 128, M: 16, N: 16, K: 16 });
    rejects(batch, {
      'split.b': [1, 1, 128, 1], 'split.m': [16, 1, 1, 1], 'split.n': [16, 1, 1, 1], 'split.k': [1, 1, 16], fuse: [1, 1, 1], reorder: 0, unroll: [0, 0],
    }, /block dimension z of 128 threads .* limit of 64/);
  });

  it('rejects a grid dimension over its limit (y: 65535)', () => {
    const tall = defineWorkload('gemm', { M: 131072, N: 4, K: 1 });
    rejects(tall, {
      'split.m': [131072, 1, 1, 1], 'split.n': [1, 1, 4, 1], 'split.k': [1, 1, 1], fuse: [1, 1], reorder: 0, unroll: [0, 0],
    }, /grid dimension y of 131072 blocks .* limit of 65535/);
  });

  it('rejects shared memory over the limit, and follows the device reported limit', () => {
    rejects(gemm, { ...gemmConfig, 'split.m': [8, 1, 16, 8], 'split.k': [8, 16, 8] }, /shared memory of \d+ bytes per block \(A\[128x128\] \+ B\[128x128\] floats\) exceeds the device limit of 49152/);
    // 2 × 128×8 floats = 8 KiB: fine on sm_90, not on a device that reports 4 KiB.
    expect(gpuGeometry(gemm, planGpu(gemm, gemmConfig)).sharedBytes).toBe(8192);
    rejects(gemm, gemmConfig, /exceeds the device limit of 4096/, { maxSharedMemoryPerBlock: 4096 });
  });

  it('rejects an accumulator that cannot live in registers', () => {
    rejects(gemm, { ...gemmConfig, 'split.m': [4, 4, 4, 16], 'split.n': [8, 2, 16, 4] }, /accumulator of 512 floats per thread .* 255 registers/);
  });

  it('rejects malformed configs, naming the knob', () => {
    rejects(gemm, { ...gemmConfig, vector: 4 }, /unknown knob 'vector'/);
    const { 'split.k': _, ...noK } = gemmConfig;
    rejects(gemm, noK, /missing knob 'split.k'/);
    rejects(gemm, { ...gemmConfig, 'split.k': [1024, 1] }, /split.k.*expected 3 factors/);
    rejects(gemm, { ...gemmConfig, fuse: [2] }, /knob 'fuse' must be one of \[\[1,1\]\]/);
    rejects(gemm, { ...gemmConfig, reorder: 3 }, /knob 'reorder'/);
    rejects(gemm, { ...gemmConfig, unroll: [2, 0] }, /knob 'unroll'/);
    expect(() => lower(gemm, gpuTemplate, { ...gemmConfig, reorder: 7 }, {})).toThrow(InstantiationError);
  });
});

describe('shared-memory boxes and the lowered nest', () => {
  it('stages both GEMM inputs in block × reduce-step tiles, unguarded when the splits are perfect', () => {
    const g = gpuGeometry(gemm, planGpu(gemm, gemmConfig));
    expect(g.staged.map((s) => [s.tensor, s.box.map((b) => b.extent)])).toEqual([['A', [128, 8]], ['B', [8, 128]]]);
    expect(g.staged.flatMap((s) => [...s.guardLow, ...s.guardHigh]).some(Boolean)).toBe(false);
    expect(g.unstaged).toEqual([]);
    expect(g.grid).toEqual([8, 8, 1]);
    expect(g.block).toEqual([16, 16, 1]);
    expect(g.accumulatorFloats).toBe(64);
  });

  it('sizes a strided, padded window: (tile - 1) * stride + taps', () => {
    const g = gpuGeometry(conv, planGpu(conv, convConfig));
    const input = g.staged.find((s) => s.tensor === 'I')!;
    // h tile 7 at stride 2 with 3 taps: 6*2 + 3 = 15; w tile 2 with the s step of 3 taps: 1*2 + 3 = 5.
    expect(input.box.map((b) => b.extent)).toEqual([1, 4, 15, 5]);
    expect(input.guardLow).toEqual([false, false, true, true]); // padding
  });

  it('bounds divided indices of transposed convolutions (not exact: every bound checked)', () => {
    const def = defineWorkload('conv_transpose2d', { N: 1, C: 8, H: 7, W: 7, K: 4, R: 4, S: 4, stride: 2, pad: 1 });
    const config: Config = {
      'split.n': [1, 1, 1, 1], 'split.k': [1, 1, 4, 1], 'split.h': [2, 1, 4, 2], 'split.w': [2, 1, 8, 1],
      'split.c': [2, 2, 2], 'split.r': [1, 1, 4], 'split.s': [2, 1, 2], fuse: [1, 1, 2], reorder: 2, unroll: [0, 0],
    };
    const input = gpuGeometry(def, planGpu(def, config)).staged.find((s) => s.tensor === 'I')!;
    // h: 8 outputs and 4 taps: 11 values of (h + pad - r) over stride 2 → at most ceil(10 / 2) + 1 = 6 rows.
    expect(input.box.map((b) => b.extent)).toEqual([1, 4, 6, 5]);
    expect(input.box.slice(2).every((b) => !b.exact)).toBe(true);
    expect(input.guardLow.slice(2)).toEqual([true, true]);
    expect(input.guardHigh.slice(2)).toEqual([true, true]);
  });

  it('binds block and thread indices with the launch shape of the geometry, one barrier pair per reduce step', () => {
    const nest = gpuTemplate.lower(conv, convConfig);
    const g = gpuGeometry(conv, planGpu(conv, convConfig));
    expect(launchShape(nest)).toEqual({ grid: g.grid, block: g.block });
    // fuse [1,1,2]: (h, w) → x, k → y, n → z; level-0 factors give the grid, level-2 the block.
    expect(g.grid).toEqual([14, 32, 1]);
    expect(g.block).toEqual([14, 4, 1]);
    const stmts = collect(nest);
    expect(stmts.filter((s) => s.k === 'barrier')).toHaveLength(2);
    expect(stmts.filter((s) => s.k === 'alloc' && s.scope === 'shared').map((s) => (s as { name: string }).name)).toEqual(['I_sh', 'W_sh']);
    const kinds = stmts.flatMap((s) => (s.k === 'loop' ? [s.kind] : []));
    expect(kinds).toContain('vthread');
    expect(kinds.filter((k) => k.startsWith('block.') || k.startsWith('thread.')).sort()).toEqual(['block.x', 'block.y', 'thread.x', 'thread.y']);
  });
});
