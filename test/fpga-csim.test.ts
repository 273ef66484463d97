// C simulation of the FPGA template: for every operator family, 20 random valid configs are
// rendered to HLS C++ (the text Vitis HLS would synthesise), compiled with g++ and run; each output
// must match the TypeScript reference semantics (tensor/reference.ts), and no kernel may touch
// memory outside its tensors and buffers (AddressSanitizer). To keep the suite fast on two cores,
// one family's 20 kernels are compiled as one translation unit, each kernel verbatim inside its
// own namespace. A second part goes through the agent's own path (FpgaBackend.measure:
// C simulation against the unscheduled reference kernel, then the estimate): valid configs pass,
// a corrupted kernel is WRONG_ANSWER, an over-budget config is INSTANTIATION.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChild } from '../agent/child-process.ts';
import { createFpgaBackend, CSIM_FLAGS, type FpgaBackend } from '../agent/backends/fpga/fpga-backend.ts';
import { HlsRenderer } from '../agent/backends/fpga/hls-renderer.ts';
import type { TimingProtocol } from '../contracts/result.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { INPUT_VALUE_C, tolerance } from '../tensor/data.ts';
import { defineWorkload, opNames } from '../tensor/ops/registry.ts';
import { evaluate } from '../tensor/reference.ts';
import { fpgaTemplate } from '../tensor/templates/fpga.ts';
import { randomValidConfigs } from '../coordinator/random-configs.ts';
import { TINY_SHAPES } from './helpers/shapes.ts';
import type { Config, DeviceLimits } from '../tensor/templates/template.ts';

const CONFIGS_PER_OP = 20;
const PROTOCOL: TimingProtocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 20_000 };

let workDir: string;
let backend: FpgaBackend;
let limits: DeviceLimits;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'flexfarm-fpga-csim-'));
  backend = createFpgaBackend({ cacheDir: workDir, estimator: 'model' });
  limits = backend.limits;
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));


/** One translation unit: every kernel verbatim in its own namespace, and a main that runs each
 *  on the deterministic inputs and writes all outputs, one after another, to argv[1]. */
function batchProgram(def: ComputeDef, configs: Config[]): string {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const kernels = configs.map((config, i) => {
    const renderer = new HlsRenderer('top');
    return `namespace k${i} {\n${renderer.renderKernel(def, fpgaTemplate.lower(def, config), JSON.stringify(config))}}\n`;
  });
  const tensors = [...def.inputs, def.output];
  const outSize = size(def.output.shape);
  return [
    '#include <stdint.h>', '#include <stdio.h>', '#include <stdlib.h>', '#include <math.h>',
    ...kernels,
    INPUT_VALUE_C,
    'int main(int argc, char** argv) {',
    '  if (argc != 2) return 2;',
    '  FILE* f = fopen(argv[1], "wb");',
    '  if (!f) return 1;',
    ...tensors.map((t) => `  float* ${t.name} = (float*)malloc(${size(t.shape)} * sizeof(float));`),
    ...def.inputs.map((t, i) => `  for (long j = 0; j < ${size(t.shape)}; ++j) ${t.name}[j] = ff_input_value(${i}, j);`),
    ...configs.map((_, i) => [
      `  for (long j = 0; j < ${outSize}; ++j) ${def.output.name}[j] = NAN;`,
      `  k${i}::top(${tensors.map((t) => t.name).join(', ')});`,
      `  if (fwrite(${def.output.name}, sizeof(float), ${outSize}, f) != ${outSize}) return 1;`,
    ].join('\n')),
    '  fclose(f);',
    '  return 0;',
    '}',
    '',
  ].join('\n');
}

interface Batch { def: ComputeDef; configs: Config[]; outputs: Float32Array | null; error: string | null }

/** Build and run every family's batch, two g++ at a time. */
async function runBatches(): Promise<Map<string, Batch>> {
  const batches = new Map<string, Batch>();
  for (const [i, op] of opNames().entries()) {
    const def = defineWorkload(op, TINY_SHAPES[op]);
    batches.set(op, { def, configs: randomValidConfigs(fpgaTemplate, def, limits, CONFIGS_PER_OP, 1000 + i), outputs: null, error: null });
  }
  const queue = [...batches.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [op, batch] = next;
      const src = join(workDir, `${op}.cpp`), bin = join(workDir, op), out = join(workDir, `${op}.out`);
      writeFileSync(src, batchProgram(batch.def, batch.configs));
      // AddressSanitizer: a copy or PE reading outside a tensor or a tile buffer fails the run,
      // even where the value read would never reach the output.
      const built = await runChild('g++', [...CSIM_FLAGS, '-fsanitize=address', src, '-o', bin, '-lm'], { timeoutMs: 180_000 });
      if (built.code !== 0) { batch.error = `g++ failed: ${built.stderr.slice(0, 2000)}`; continue; }
      const ran = await runChild(bin, [out], { timeoutMs: 60_000, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
      if (ran.code !== 0) { batch.error = `run failed (${ran.code ?? ran.signal}): ${ran.stderr.slice(0, 500)}`; continue; }
      const bytes = readFileSync(out);
      batch.outputs = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    }
  };
  await Promise.all([worker(), worker()]);
  return batches;
}

describe('FPGA C simulation: random valid configs of every operator family', () => {
  let batches: Map<string, Batch>;
  beforeAll(async () => { batches = await runBatches(); }, 600_000);

  it.each(opNames())('%s: 20 random configs match the reference semantics', (op) => {
    const batch = batches.get(op)!;
    expect(batch.configs.length).toBe(CONFIGS_PER_OP);
    expect(batch.error).toBeNull();
    const expected = evaluate(batch.def);
    const { atol, rtol } = tolerance(batch.def.reduce.reduce((n, a) => n * a.extent, 1));
    const n = expected.length;
    expect(batch.outputs!.length).toBe(n * CONFIGS_PER_OP);
    batch.configs.forEach((config, k) => {
      for (let j = 0; j < n; j++) {
        const got = batch.outputs![k * n + j];
        if (!(Math.abs(got - expected[j]) <= atol + rtol * Math.abs(expected[j]))) {
          throw new Error(`${op} config ${JSON.stringify(config)}: element ${j} is ${got}, reference ${expected[j]}`);
        }
      }
    });
  });

  it('the random configs exercise the knobs: tiles, PE arrays, orders, partitions, bursts', () => {
    const all = [...batches.values()].flatMap((b) => b.configs.map((c) => ({ c, def: b.def })));
    const distinct = (key: string) => new Set(all.map(({ c }) => JSON.stringify(c[key]))).size;
    expect(distinct('order')).toBe(2);
    expect(distinct('partition')).toBe(4);
    expect(distinct('burst')).toBeGreaterThanOrEqual(4);
    // Imperfect splits (guarded tails) and multi-tile reductions both occur.
    const tails = all.filter(({ c, def }) => def.spatial.some((a) => {
      const f = c[`split.${a.name}`] as number[];
      return f[0] * f[1] * f[2] !== a.extent;
    }));
    expect(tails.length).toBeGreaterThan(50);
    const pes = all.filter(({ c, def }) => def.spatial.some((a) => (c[`split.${a.name}`] as number[])[2] > 1));
    expect(pes.length).toBeGreaterThan(100);
  });
});

describe('FPGA agent path: C simulation against the reference kernel, then the estimate', () => {
  it('valid configs pass C simulation and come back estimated, seconds = cycles / clock', async () => {
    for (const op of ['gemm', 'conv_transpose2d', 'depthwise_conv2d']) {
      const def = defineWorkload(op, TINY_SHAPES[op]);
      const configs = randomValidConfigs(fpgaTemplate, def, limits, 2, 7);
      const results = await Promise.all(configs.map((config, i) =>
        backend.measure({ id: `${op}-${i}`, workload: def.key, target: 'fpga', config }, PROTOCOL)));
      for (const r of results) {
        expect(r.error, JSON.stringify(r.error)).toBeNull();
        expect(r.estimated).toBe(true);
        expect(r.estimator).toBe('model');
        expect(r.estimate!.cycles).toBeGreaterThan(0);
        expect(r.median).toBeCloseTo(r.estimate!.cycles / (r.estimate!.clockMhz * 1e6), 15);
      }
    }
  });

  it('a kernel computing a wrong answer in C simulation is WRONG_ANSWER', async () => {
    const def = defineWorkload('gemm', TINY_SHAPES.gemm);
    const wrong = createFpgaBackend({
      cacheDir: workDir, estimator: 'model',
      // Drop the first output element's store back to the tensor: only the scheduled kernel has O_buf.
      sourceFilter: (source) => source.replace(/(C\[[^\]]+\]) = (C_buf[^;]+);/, '$1 = $2 + 1.0f;'),
    });
    const [config] = randomValidConfigs(fpgaTemplate, def, limits, 1, 11);
    const r = await wrong.measure({ id: 'wrong', workload: def.key, target: 'fpga', config }, PROTOCOL);
    expect(r.error?.code).toBe('WRONG_ANSWER');
    expect(r.error?.message).toMatch(/C simulation/);
    expect(r.estimated).toBe(true);
  });

  it('a config over the part budget is INSTANTIATION before anything is compiled', async () => {
    const def = defineWorkload('gemm', { M: 64, N: 64, K: 64 });
    // 64 x 64 PEs at II 1: 4096 multiply-adds per cycle, 20,480 DSPs; the VU9P has 6,840.
    const config = { 'split.m': [1, 1, 64], 'split.n': [1, 1, 64], 'split.k': [64, 1, 1], order: 1, ii: 1, partition: 0, burst: 16 };
    const r = await backend.measure({ id: 'big', workload: def.key, target: 'fpga', config }, PROTOCOL);
    expect(r.error?.code).toBe('INSTANTIATION');
    expect(r.error?.message).toMatch(/needs \d+ DSP slices, the part has 6840/);
  });
});
