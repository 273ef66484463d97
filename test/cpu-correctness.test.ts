// Every operator, many random CPU schedules: each one is compiled with gcc, run in a child process
// and checked against the unscheduled reference kernel. Small shapes with odd and prime extents
// make most splits imperfect (guarded tails); the convolutions use stride 2, padding, dilation 2,
// groups 4, a channel multiplier of 2 and strided transposed convolutions.
// A second part ties the C path to the TypeScript semantics: the unscheduled C program (the
// oracle of the first part) and one scheduled kernel per family write their output, which must
// match tensor/reference.ts evaluate().
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChild } from '../agent/child-process.ts';
import { compileCached } from '../agent/compile-cache.ts';
import { compilerVersion, cpuProgram, createCpuBackend, CPU_FLAGS } from '../agent/backends/cpu/cpu-backend.ts';
import type { CompiledBackend } from '../agent/measure.ts';
import type { MeasureResult, TimingProtocol } from '../contracts/result.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { tolerance } from '../tensor/data.ts';
import { lower, lowerNaive } from '../tensor/lower.ts';
import { defineWorkload, opNames } from '../tensor/ops/registry.ts';
import { evaluate } from '../tensor/reference.ts';
import { cpuTemplate } from '../tensor/templates/cpu.ts';
import { randomValidConfigs } from '../coordinator/random-configs.ts';
import { TINY_SHAPES } from './helpers/shapes.ts';
import type { Config } from '../tensor/templates/template.ts';

const CONFIGS_PER_OP = 30;
/** Candidates handed to the backend at once: it overlaps their compiles and serialises timing. */
const BATCH = 10;
const PROTOCOL: TimingProtocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 60_000 };

let cacheDir: string;
let backend: CompiledBackend;

beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'flexfarm-cpu-correctness-'));
  // Four-float vectors: the tiny shapes' register tiles are wide enough for explicit vector code
  // (the host's 8 or 16 would leave most vector loops to the scalar path).
  backend = createCpuBackend({ cacheDir, threads: 2, vectorWidth: 4 });
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));


/** The tiny shapes, with a transposed 3-D convolution whose phase-decomposed space (cpu-phase.ts)
 *  can fill 4-float vectors: R = 4 decomposes h as well as d and w (I then pads, and the inner
 *  output axis w_o, 5 wide, vectorises). The C-path part below keeps the shared shape, in which
 *  h keeps its divisibility guard. */
const SHAPES: Record<string, Record<string, number>> = { ...TINY_SHAPES, conv_transpose3d: { ...TINY_SHAPES.conv_transpose3d, W: 5, R: 4 } };

/** Some split of the config leaves a tail (the template's own axes: phase-decomposed ones included). */
const isImperfect = (config: Config, def: ComputeDef) =>
  cpuTemplate.knobs(def).some((k) => k.kind === 'split' && k.axis && (config[k.name] as number[]).reduce((x, y) => x * y, 1) !== k.axis.extent);

describe('every operator: random CPU schedules compile and match the reference', () => {
  it('covers all 13 operators', () => {
    expect(Object.keys(SHAPES).sort()).toEqual([...opNames()].sort());
  });

  for (const [op, shape] of Object.entries(SHAPES)) {
    it(`${op}: ${CONFIGS_PER_OP} random configs are correct`, async () => {
      const def = defineWorkload(op, shape);
      const configs = randomValidConfigs(cpuTemplate, def, backend.limits, CONFIGS_PER_OP, 7);
      expect(configs).toHaveLength(CONFIGS_PER_OP);
      // Odd and prime extents: most configs must exercise guarded tails.
      expect(configs.filter((c) => isImperfect(c, def)).length).toBeGreaterThan(CONFIGS_PER_OP / 2);
      // The layout knobs are exercised: packed and staged inputs, explicit vector loops.
      for (const knob of cpuTemplate.knobs(def).filter((k) => /^(pack|pad)\./.test(k.name))) {
        expect(configs.some((c) => c[knob.name] === 1), `${knob.name} = 1 in some config`).toBe(true);
      }
      const vectorised = configs.filter((c) => cpuProgram(def, lower(def, cpuTemplate, c, backend.limits), '', 4).includes('*(ff_vec*)&'));
      expect(vectorised.length, 'configs with explicit vector code').toBeGreaterThanOrEqual(3);
      const results: MeasureResult[] = [];
      for (let i = 0; i < configs.length; i += BATCH) {
        const batch = configs.slice(i, i + BATCH).map((config, j) => ({
          id: `${op}-${i + j}`, workload: def.key, target: 'cpu' as const, config,
        }));
        results.push(...await Promise.all(batch.map((c) => backend.measure(c, PROTOCOL))));
      }
      const failures = results.filter((r) => r.error).map((r) => `${JSON.stringify(r.config)} → ${r.error!.code}: ${r.error!.message}`);
      expect(failures).toEqual([]);
      for (const r of results) {
        expect(r.seconds.length).toBeGreaterThan(0);
        expect(r.median).toBeGreaterThan(0);
      }
    }, 300_000);
  }

  it('fused axes: a 1×1 conv2d with odd extents, random configs that fuse h·w, are correct', async () => {
    const def = defineWorkload('conv2d', { N: 1, C: 5, H: 7, W: 9, K: 6, R: 1, S: 1 });
    const configs = randomValidConfigs(cpuTemplate, def, backend.limits, 200, 11).filter((c) => c.fuse === 3).slice(0, 12);
    expect(configs.length).toBe(12);
    const results = await Promise.all(configs.map((config, i) => backend.measure({ id: `fuse-${i}`, workload: def.key, target: 'cpu', config }, PROTOCOL)));
    expect(results.filter((r) => r.error).map((r) => `${JSON.stringify(r.config)} → ${r.error!.code}: ${r.error!.message}`)).toEqual([]);
  }, 300_000);
});

describe('edge tiles compiled: clamped and masked tails, the output buffer', () => {
  it('gemm with ragged m and n: moved-back tiles, masked packed lanes, and the bounded fallback are correct', async () => {
    const def = defineWorkload('gemm', { M: 13, N: 21, K: 7 });
    const base: Config = { 'split.m': [4, 1, 1, 4], 'split.n': [2, 1, 1, 16], 'split.k': [1, 1, 7], reorder: 1, unroll: [0, 0], vector: 1, 'pack.B': 1 };
    const configs: Config[] = [
      base,                                                          // m clamped, n masked
      { ...base, 'pack.B': 0 },                                      // n clamped (unpacked)
      { ...base, 'split.k': [7, 1, 1], reorder: 0 },                 // accumulates into C: bounded loops
      { ...base, 'split.m': [2, 1, 1, 8] },                          // the clamped tile overlaps 3 of 8 rows
      { ...base, 'split.m': [3, 1, 1, 6] },                          // a 6-row register tile (three times a power of two)
      { ...base, 'split.m': [1, 3, 1, 6] },                          // its remainder at level 1, level 2 …
      { ...base, 'split.m': [1, 1, 3, 6], 'split.n': [1, 1, 2, 16] },  // … on both axes
      { ...base, 'split.m': [1, 1, 3, 6], 'split.k': [7, 1, 1], reorder: 0 },  // accumulating into C
    ];
    const sources = configs.map((c) => cpuProgram(def, lower(def, cpuTemplate, c, backend.limits), '', 16));
    expect(sources[0]).toContain('ff_min(');                         // the clamped base
    const results = await Promise.all(configs.map((config, i) => backend.measure({ id: `edge-${i}`, workload: def.key, target: 'cpu', config }, PROTOCOL)));
    expect(results.filter((r) => r.error).map((r) => `${JSON.stringify(r.config)} → ${r.error!.code}: ${r.error!.message}`)).toEqual([]);
  }, 300_000);

  it('conv2d accumulating across reduce blocks in the output buffer, with ragged tiles, is correct', async () => {
    const def = defineWorkload('conv2d', { N: 1, C: 6, H: 7, W: 5, K: 11, R: 3, S: 3, stride: 1, pad: 1 });
    const base: Config = {
      'split.n': [1, 1, 1, 1], 'split.k': [2, 1, 1, 8], 'split.h': [2, 1, 2, 2], 'split.w': [2, 1, 1, 4],
      'split.c': [3, 1, 2], 'split.r': [1, 3, 1], 'split.s': [3, 1, 1], reorder: 2, unroll: [0, 0], vector: 1, 'pack.W': 1, 'pad.I': 1,
    };
    const configs: Config[] = [base, { ...base, reorder: 0 }, { ...base, 'split.h': [2, 2, 1, 2] },
      { ...base, 'split.k': [1, 1, 2, 8], 'split.h': [1, 1, 4, 2] }];   // remainders at level 2: pad and pack see the over-cover
    for (const c of configs) expect(cpuProgram(def, lower(def, cpuTemplate, c, backend.limits), '', 4)).toContain('O_acc[');
    const results = await Promise.all(configs.map((config, i) => backend.measure({ id: `buffered-${i}`, workload: def.key, target: 'cpu', config }, PROTOCOL)));
    expect(results.filter((r) => r.error).map((r) => `${JSON.stringify(r.config)} → ${r.error!.code}: ${r.error!.message}`)).toEqual([]);
  }, 300_000);
});

describe('the C path matches the TypeScript reference semantics', () => {
  /** Compile `source` and return the output the program writes with `--write`. */
  async function cOutput(source: string, def: ComputeDef, name: string): Promise<Float32Array> {
    const version = compilerVersion('gcc');
    const binary = await compileCached(source, { command: 'gcc', flags: CPU_FLAGS, libs: ['-lm'], extension: '.c', version }, cacheDir, 60_000);
    const path = join(cacheDir, `${name}.out`);
    const run = await runChild(binary, ['--write', path, '--no-time'], { timeoutMs: 20_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const bytes = readFileSync(path);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }

  function expectMatches(actual: Float32Array, expected: Float32Array, def: ComputeDef) {
    expect(actual.length).toBe(expected.length);
    const { atol, rtol } = tolerance(def.reduce.reduce((n, a) => n * a.extent, 1));
    const bad: string[] = [];
    for (let i = 0; i < expected.length; i++) {
      if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) bad.push(`[${i}] C ${actual[i]} vs TS ${expected[i]}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    // Zeros everywhere would compare equal and prove nothing.
    expect(new Set(expected).size).toBeGreaterThan(3);
  }

  for (const [op, shape] of Object.entries(TINY_SHAPES)) {
    it(`${op}: unscheduled and one scheduled C kernel equal evaluate()`, async () => {
      const def = defineWorkload(op, shape);
      const expected = evaluate(def);
      const [config] = randomValidConfigs(cpuTemplate, def, backend.limits, 1, 99);
      const [naive, scheduled] = await Promise.all([
        cOutput(cpuProgram(def, lowerNaive(def)), def, `${op}-naive`),
        cOutput(cpuProgram(def, lower(def, cpuTemplate, config, backend.limits)), def, `${op}-scheduled`),
      ]);
      expectMatches(naive, expected, def);
      expectMatches(scheduled, expected, def);
    }, 120_000);
  }
});
