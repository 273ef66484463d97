// The CUDA lowering, checked without a GPU: for every operator, random GPU schedules on tiny shapes
// (odd and prime extents: imperfect tiles; stride 2, padding, dilation 2, groups 4, transposed
// convolutions: shared boxes with divided indices) are rendered by the CUDA renderer, compiled
// by g++ under the CPU emulation of the CUDA execution model (a real thread per CUDA thread,
// __syncthreads as a barrier, blocks in turn) and compared with tensor/reference.ts evaluate().
// The unscheduled nest spread one thread per point (the GPU backend's reference) is checked too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATION_FLAGS, emulationProgram } from '../agent/backends/gpu/cpu-emulation.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { tolerance } from '../tensor/data.ts';
import { lowerNaive } from '../tensor/lower.ts';
import { defineWorkload, opNames } from '../tensor/ops/registry.ts';
import { evaluate } from '../tensor/reference.ts';
import { int, load, min, mul, v } from '../tensor/ir.ts';
import { gpuGeometry, gpuTemplate, planGpu } from '../tensor/templates/gpu.ts';
import type { Config } from '../tensor/templates/template.ts';
import { randomValidConfigs } from '../coordinator/random-configs.ts';
import { TINY_SHAPES } from './helpers/shapes.ts';

const CONFIGS_PER_OP = 20;
/** Emulated threads are OS threads: keep blocks small. */
const EMULATION_LIMITS = { maxThreadsPerBlock: 128 };

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'flexfarm-gpu-emulation-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compile and run the emulation of `configs` (then the unscheduled nest); one output per nest. */
function emulate(def: ComputeDef, configs: Config[]): Float32Array[] {
  const nests = [...configs.map((c) => gpuTemplate.lower(def, c)), lowerNaive(def)];
  const source = join(dir, `${def.op}.cpp`), binary = join(dir, def.op), output = join(dir, `${def.op}.out`);
  writeFileSync(source, emulationProgram(def, nests));
  execFileSync('g++', [...EMULATION_FLAGS, source, '-o', binary], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  execFileSync(binary, [output], { timeout: 60_000 });
  const bytes = readFileSync(output);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const n = def.output.shape.reduce((a, b) => a * b, 1);
  expect(all.length).toBe(n * nests.length);
  return nests.map((_, i) => all.subarray(i * n, (i + 1) * n));
}

function mismatches(actual: Float32Array, expected: Float32Array, def: ComputeDef): string[] {
  const { atol, rtol } = tolerance(def.reduce.reduce((n, a) => n * a.extent, 1));
  const bad: string[] = [];
  for (let i = 0; i < expected.length && bad.length < 3; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  }
  return bad;
}

const isImperfect = (config: Config, def: ComputeDef) =>
  [...def.spatial, ...def.reduce].some((a) => (config[`split.${a.name}`] as number[]).reduce((x, y) => x * y, 1) !== a.extent);

describe('GPU lowering under CPU emulation of CUDA', () => {
  it('covers all 13 operators', () => {
    expect(Object.keys(TINY_SHAPES).sort()).toEqual([...opNames()].sort());
  });

  for (const [op, shape] of Object.entries(TINY_SHAPES)) {
    it(`${op}: ${CONFIGS_PER_OP} random schedules and the thread-per-point reference equal evaluate()`, () => {
      const def = defineWorkload(op, shape);
      const configs = randomValidConfigs(gpuTemplate, def, EMULATION_LIMITS, CONFIGS_PER_OP, 11);
      expect(configs).toHaveLength(CONFIGS_PER_OP);
      expect(configs.filter((c) => isImperfect(c, def)).length).toBeGreaterThan(CONFIGS_PER_OP / 2);
      const expected = evaluate(def);
      expect(new Set(expected).size).toBeGreaterThan(3); // zeros everywhere would prove nothing
      const outputs = emulate(def, configs);
      const failures = outputs.flatMap((out, i) => {
        const bad = mismatches(out, expected, def);
        return bad.length ? [`${i < configs.length ? JSON.stringify(configs[i]) : 'unscheduled'}: ${bad.join(', ')}`] : [];
      });
      expect(failures).toEqual([]);
    }, 180_000);
  }
});

describe('an input whose indices cannot be bounded', () => {
  // C[m,n] = sum_k A[min(m,12),k] * B[k,n]: min() has no constant-length box, so A is read from
  // global memory (guarded on the tails) while B is staged.
  const M = 13, N = 11, K = 7;
  const def: ComputeDef = {
    op: 'gemm_min', params: { M, N, K }, key: `gemm_min(M=${M},N=${N},K=${K})`, dtype: 'float32', flops: 2 * M * N * K,
    inputs: [{ name: 'A', shape: [M, K] }, { name: 'B', shape: [K, N] }],
    output: { name: 'C', shape: [M, N] },
    spatial: [{ name: 'm', extent: M }, { name: 'n', extent: N }],
    reduce: [{ name: 'k', extent: K }],
    body: mul(load('A', [min(v('m'), int(M - 1)), v('k')]), load('B', [v('k'), v('n')])),
  };

  it('is read from global memory under tail guards, and the results are right', () => {
    const configs = randomValidConfigs(gpuTemplate, def, EMULATION_LIMITS, CONFIGS_PER_OP, 5);
    expect(gpuGeometry(def, planGpu(def, configs[0])).unstaged).toEqual(['A']);
    expect(configs.filter((c) => isImperfect(c, def)).length).toBeGreaterThan(CONFIGS_PER_OP / 2);
    const expected = evaluate(def);
    const failures = emulate(def, configs).flatMap((out, i) => {
      const bad = mismatches(out, expected, def);
      return bad.length ? [`${JSON.stringify(configs[i] ?? 'unscheduled')}: ${bad.join(', ')}`] : [];
    });
    expect(failures).toEqual([]);
  }, 180_000);
});
