// Rendered CUDA compiles with the real nvcc for sm_90 (no GPU needed): for every operator, 20
// random configs valid under sm_90's limits, on layer-sized shapes, in one translation unit per
// operator (nvcc's start-up dominates small files), compiled with the backend's flags, two
// operators at a time. Plus whole programs (kernel + harness) as the agent builds them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archLimits } from '../agent/backends/gpu/arch.ts';
import { cudaProgram } from '../agent/backends/gpu/cuda-program.ts';
import { CudaRenderer } from '../agent/backends/gpu/cuda-renderer.ts';
import { GPU_FLAGS } from '../agent/backends/gpu/gpu-backend.ts';
import { runChild, type ChildOutcome } from '../agent/child-process.ts';
import { lowerNaive } from '../tensor/lower.ts';
import { defineWorkload, opNames } from '../tensor/ops/registry.ts';
import { gpuTemplate } from '../tensor/templates/gpu.ts';
import { randomValidConfigs } from '../coordinator/random-configs.ts';
import { LAYER_SHAPES } from './helpers/shapes.ts';

const CONFIGS_PER_OP = 20;
const ARCH = 'sm_90';
const NVCC = ['-c', ...GPU_FLAGS, `-arch=${ARCH}`];
const PARALLEL_COMPILES = 2;
// nvcc of 20 conv2d kernels took over 300 s on a 2-core Zen 3 host with the suite beside it.
const COMPILE_TIMEOUT_MS = 600_000;

let dir: string;
const compiles = new Map<string, Promise<ChildOutcome>>();
const kernelCounts = new Map<string, number>();

/** Runs `jobs` at most `slots` at a time; each result is available as soon as it is done. */
function pool<T>(jobs: (() => Promise<T>)[], slots: number): Promise<T>[] {
  let next = 0;
  const results = jobs.map(() => { let resolve!: (v: Promise<T>) => void; const p = new Promise<T>((r) => { resolve = r; }); return { p, resolve }; });
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const run = jobs[i]();
      results[i].resolve(run);
      await run.catch(() => undefined);
    }
  };
  for (let s = 0; s < slots; s++) void worker();
  return results.map((r) => r.p);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-gpu-nvcc-'));
  const limits = archLimits(ARCH);
  const jobs = opNames().map((op) => () => {
    const def = defineWorkload(op, LAYER_SHAPES[op]);
    const configs = randomValidConfigs(gpuTemplate, def, limits, CONFIGS_PER_OP, 3);
    kernelCounts.set(op, configs.length);
    const renderer = new CudaRenderer();
    const kernels = configs.map((config, i) => {
      renderer.kernelName = `kernel_${i}`;
      return renderer.renderKernel(def, gpuTemplate.lower(def, config), JSON.stringify(config));
    });
    const source = join(dir, `${op}.cu`);
    writeFileSync(source, kernels.join('\n'));
    return runChild('nvcc', [...NVCC, source, '-o', join(dir, `${op}.o`)], { timeoutMs: COMPILE_TIMEOUT_MS });
  });
  pool(jobs, PARALLEL_COMPILES).forEach((p, i) => compiles.set(opNames()[i], p));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(`rendered CUDA compiles with nvcc ${NVCC.join(' ')}`, () => {
  for (const op of Object.keys(LAYER_SHAPES)) {
    it(`${op}: ${CONFIGS_PER_OP} random valid configs compile`, async () => {
      const out = await compiles.get(op)!;
      expect(kernelCounts.get(op)).toBe(CONFIGS_PER_OP);
      expect(out.timedOut).toBe(false);
      expect(out.code, out.stderr.slice(0, 2000)).toBe(0);
      expect(out.stderr).not.toMatch(/warning/);
    }, COMPILE_TIMEOUT_MS * 2);
  }

  it('covers all 13 operators', () => {
    expect(Object.keys(LAYER_SHAPES).sort()).toEqual([...opNames()].sort());
  });

  it('whole programs (kernel + harness) compile: a tuned config and the thread-per-point reference', async () => {
    const def = defineWorkload('conv_transpose2d', LAYER_SHAPES.conv_transpose2d);
    const [config] = randomValidConfigs(gpuTemplate, def, archLimits(ARCH), 1, 9);
    const sources = [cudaProgram(def, gpuTemplate.lower(def, config), JSON.stringify(config)), cudaProgram(def, lowerNaive(def), 'reference')];
    const outcomes = await Promise.all(sources.map((text, i) => {
      const source = join(dir, `program-${i}.cu`);
      writeFileSync(source, text);
      return runChild('nvcc', [...NVCC, source, '-o', join(dir, `program-${i}.o`)], { timeoutMs: COMPILE_TIMEOUT_MS });
    }));
    for (const out of outcomes) expect(out.code, out.stderr.slice(0, 2000)).toBe(0);
    expect(sources[1]).toMatch(/kernel<<<dim3\(\d+, 1, 1\), dim3\(256, 1, 1\)>>>/);
  }, COMPILE_TIMEOUT_MS);
});
