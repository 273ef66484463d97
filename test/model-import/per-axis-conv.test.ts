// Per-axis strides and pads of the 2-D convolutions (stride_w, pad_h, …), which exported models
// use (PaddleOCR's strides [2,1]): the compute definition against naive loops written here, and
// compiled CPU kernels checked against the reference by the agent; keys without them unchanged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../agent/backends/cpu/cpu-backend.ts';
import type { CompiledBackend } from '../../agent/measure.ts';
import { randomValidConfigs } from '../../coordinator/random-configs.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { evaluate, makeInputs } from '../../tensor/reference.ts';
import { cpuTemplate } from '../../tensor/templates/cpu.ts';

/** O[n,k,h,w] = Σ I[n, g·C/G + c, h·sh + r - ph, w·sw + s - pw] · W[k, c, r, s] (zero outside). */
function naiveConv(I: Float32Array, W: Float32Array, p: { N: number; C: number; H: number; Wd: number; K: number; R: number; S: number; sh: number; sw: number; ph: number; pw: number; groups: number }) {
  const OH = Math.floor((p.H + 2 * p.ph - p.R) / p.sh) + 1, OW = Math.floor((p.Wd + 2 * p.pw - p.S) / p.sw) + 1;
  const cg = p.C / p.groups, kg = p.K / p.groups;
  const out = new Float32Array(p.N * p.K * OH * OW);
  for (let n = 0; n < p.N; n++) for (let k = 0; k < p.K; k++) for (let h = 0; h < OH; h++) for (let w = 0; w < OW; w++) {
    let sum = 0;
    for (let c = 0; c < cg; c++) for (let r = 0; r < p.R; r++) for (let s = 0; s < p.S; s++) {
      const y = h * p.sh + r - p.ph, x = w * p.sw + s - p.pw;
      if (y < 0 || y >= p.H || x < 0 || x >= p.Wd) continue;
      const ci = Math.floor(k / kg) * cg + c;
      sum += I[((n * p.C + ci) * p.H + y) * p.Wd + x] * W[((k * cg + c) * p.R + r) * p.S + s];
    }
    out[((n * p.K + k) * OH + h) * OW + w] = sum;
  }
  return { out, shape: [p.N, p.K, OH, OW] };
}

const CASES: { op: string; shape: Record<string, number>; groups: number }[] = [
  { op: 'conv2d', shape: { N: 1, C: 3, H: 9, W: 7, K: 4, R: 3, S: 3, stride: 2, stride_w: 1, pad: 1, pad_w: 0 }, groups: 1 },
  { op: 'conv2d', shape: { N: 1, C: 2, H: 5, W: 8, K: 3, R: 1, S: 3, stride: 1, pad: 0, pad_w: 1 }, groups: 1 },
  { op: 'grouped_conv2d', shape: { N: 1, C: 4, H: 6, W: 6, K: 4, R: 3, S: 3, stride: 1, stride_w: 2, pad: 1, groups: 2 }, groups: 2 },
  { op: 'depthwise_conv2d', shape: { N: 1, C: 3, H: 8, W: 9, R: 3, S: 3, stride: 2, stride_w: 1, pad: 1 }, groups: 3 },
];

describe('per-axis strides and pads', () => {
  it('keys leave them out while they equal stride and pad', () => {
    const plain = defineWorkload('conv2d', { N: 1, C: 8, H: 8, W: 8, K: 8, R: 3, S: 3, stride: 2, pad: 1 });
    expect(defineWorkload('conv2d', { N: 1, C: 8, H: 8, W: 8, K: 8, R: 3, S: 3, stride: 2, pad: 1, stride_h: 2, stride_w: 2, pad_w: 1 }).key).toBe(plain.key);
    expect(plain.key).not.toMatch(/stride_|pad_/);
    expect(defineWorkload('conv2d', { N: 1, C: 8, H: 8, W: 8, K: 8, R: 3, S: 3, stride: 2, stride_w: 1 }).key).toMatch(/,stride_w=1,dtype=float32\)$/);
  });

  it.each(CASES)('$op $shape matches naive loops', ({ op, shape, groups }) => {
    const def = defineWorkload(op, shape);
    const inputs = makeInputs(def);
    const s = shape;
    const K = op === 'depthwise_conv2d' ? s.C : s.K;
    const want = naiveConv(inputs[0], inputs[1], {
      N: s.N, C: s.C, H: s.H, Wd: s.W, K, R: s.R, S: s.S, sh: s.stride_h ?? s.stride, sw: s.stride_w ?? s.stride, ph: s.pad_h ?? s.pad, pw: s.pad_w ?? s.pad, groups,
    });
    expect(def.output.shape.reduce((a, b) => a * b, 1)).toBe(want.out.length);
    expect([def.output.shape[0], def.output.shape.slice(1, -2).reduce((a, b) => a * b, 1), ...def.output.shape.slice(-2)]).toEqual(want.shape);
    const got = evaluate(def, inputs);
    got.forEach((v, i) => expect(v).toBeCloseTo(want.out[i], 4));
  });
});

describe('per-axis convolutions compiled for the CPU', () => {
  let cacheDir: string;
  let backend: CompiledBackend;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'flexfarm-per-axis-'));
    backend = createCpuBackend({ cacheDir, threads: 2, vectorWidth: 4 });
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it.each(CASES)('$op $shape: random schedules pass the agent\'s reference check', async ({ op, shape }) => {
    const def = defineWorkload(op, shape);
    const configs = randomValidConfigs(cpuTemplate, def, backend.limits, 3, 7);
    const protocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 60_000 };
    const results = await Promise.all(configs.map((config, i) => backend.measure({ id: `axis-${i}`, workload: def.key, target: 'cpu', config }, protocol)));
    expect(results).toHaveLength(3);
    for (const r of results) expect(r.error, JSON.stringify(r.error)).toBeNull();
  });
});
