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
import { gpuTemplate } from '../tensor/templates/gpu.ts';
import type { Config } from '../tensor/templates/template.ts';
import { randomValidGpuConfigs, TINY_SHAPES } from './helpers/gpu-configs.ts';

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
      const configs = randomValidGpuConfigs(def, CONFIGS_PER_OP, 11, EMULATION_LIMITS);
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
