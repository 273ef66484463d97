// Polyphase decomposition of stride-divisibility guards (cpu-phase.ts): which dimensions of a
// transposed convolution decompose (read from the body), what the decomposed definition looks
// like, and random configs of its space lowered by the CPU template, checked element by element
// against the reference; configs that name the original axes keep their meaning.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../agent/backends/cpu/cpu-backend.ts';
import type { CompiledBackend } from '../agent/measure.ts';
import { randomValidConfigs } from '../coordinator/random-configs.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { tolerance } from '../tensor/data.ts';
import { InstantiationError } from '../tensor/errors.ts';
import { statements, type Expr, type Stmt } from '../tensor/ir.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { evaluate, makeInputs } from '../tensor/reference.ts';
import { packableInputs, stageableInputs, vectorAxes } from '../tensor/templates/cpu-layout.ts';
import { phaseAxes, phaseDef } from '../tensor/templates/cpu-phase.ts';
import { cpuClassicTemplate, cpuTemplate } from '../tensor/templates/cpu.ts';
import type { Config } from '../tensor/templates/template.ts';
import { runNest } from './helpers/run-nest.ts';

const names = (axes: { name: string; extent: number }[]) => axes.map((a) => `${a.name}:${a.extent}`);
const points = (def: ComputeDef) => [...def.spatial, ...def.reduce].reduce((n, a) => n * a.extent, 1);
/** Every binary op of an expression tree. */
const ops = (e: Expr): string[] => {
  switch (e.k) {
    case 'bin': return [e.op, ...ops(e.a), ...ops(e.b)];
    case 'cmp': return [...ops(e.a), ...ops(e.b)];
    case 'and': return e.terms.flatMap(ops);
    case 'select': return [...ops(e.cond), ...ops(e.a), ...ops(e.b)];
    case 'load': return e.index.flatMap(ops);
    default: return [];
  }
};

/** The binary ops of the guards (select conditions) of an expression. */
const guardOps = (e: Expr): string[] => {
  switch (e.k) {
    case 'bin': return [...guardOps(e.a), ...guardOps(e.b)];
    case 'select': return [...ops(e.cond), ...guardOps(e.a), ...guardOps(e.b)];
    default: return [];
  }
};

function expectMatchesReference(def: ComputeDef, nest: Stmt, label: string) {
  const inputs = makeInputs(def);
  const expected = evaluate(def, inputs);
  const actual = runNest(def, nest, inputs).get(def.output.name)!.data;
  const { atol, rtol } = tolerance(def.reduce.reduce((n, a) => n * a.extent, 1));
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  }
  expect(bad.slice(0, 5), label).toEqual([]);
  expect(new Set(expected).size).toBeGreaterThan(3);
}

/** Random configs of the template's space (several seeds), each lowered and run. */
function expectRandomConfigsCorrect(def: ComputeDef, perSeed = 6, seeds = [1, 2, 3]) {
  const all: Config[] = [];
  for (const seed of seeds) {
    const configs = randomValidConfigs(cpuTemplate, def, {}, perSeed, seed);
    expect(configs.length).toBe(perSeed);
    for (const config of configs) expectMatchesReference(def, cpuTemplate.lower(def, config), JSON.stringify(config));
    all.push(...configs);
  }
  // The layout knobs of the decomposed space are exercised.
  for (const knob of cpuTemplate.knobs(def).filter((k) => /^(pack|pad)\./.test(k.name))) {
    expect(all.some((c) => c[knob.name] === 1), `${knob.name} = 1 in some config`).toBe(true);
  }
}

describe('the decomposed definition', () => {
  // Both dimensions decompose: R = S = 4 taps, stride 2, outputs 8 x 10.
  const t2 = defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 4, W: 5, K: 3, R: 4, S: 4, stride: 2, pad: 1 });

  it('conv_transpose2d, stride 2, R = 4, pad 1: phase axes, no divisibility guard, ceil(R/S) taps per phase', () => {
    const { def, views } = phaseAxes(t2)!;
    expect(names(def.spatial)).toEqual(['n:1', 'k:3', 'h_o:4', 'h_p:2', 'w_o:5', 'w_p:2']);
    expect(names(def.reduce)).toEqual(['c:2', 'r_o:2', 's_o:2']);
    expect(views).toEqual([{ tensor: 'O', shape: [1, 3, 4, 2, 5, 2] }]);
    expect(def.output.shape).toEqual([1, 3, 4, 2, 5, 2]);
    expect(ops(t2.body)).toContain('%');
    expect(ops(def.body).filter((op) => op === '%')).toHaveLength(2);   // only the taps' phases, in W's index
    expect(guardOps(t2.body)).toContain('%');
    expect(guardOps(def.body)).not.toContain('%');
    // The same workload: its key and its useful FLOPs; 1 pair in S per dimension left.
    expect(def.key).toBe(t2.key);
    expect(def.flops).toBe(t2.flops);
    expect(points(def) * 2 * 2).toBe(points(t2));
    expect(phaseDef(t2)).toBe(def);
  });

  it('its layout analyses: vector along k (W packs) or the inner output axis (I contiguous), I padded', () => {
    const def = phaseDef(t2);
    expect(vectorAxes(def).map((i) => def.spatial[i].name)).toEqual(['k', 'w_o']);
    expect(packableInputs(def)).toEqual(['W']);
    // the bounds guards left are I's own: a zero-padded copy removes them
    expect(stageableInputs(def)).toEqual([{ tensor: 'I', low: [0, 0, 1, 1], shape: [1, 2, 6, 7] }]);
  });

  it('the knobs name the new axes, not the replaced ones', () => {
    const knobs = cpuTemplate.knobs(t2).map((k) => k.name);
    expect(knobs.filter((k) => k.startsWith('split.'))).toEqual(['split.n', 'split.k', 'split.h_o', 'split.h_p', 'split.w_o', 'split.w_p', 'split.c', 'split.r_o', 'split.s_o']);
    expect(knobs).toEqual(expect.arrayContaining(['vector', 'pack.W', 'pad.I']));
    // the classic space keeps FlexTensor's axes
    expect(cpuClassicTemplate.knobs(t2).map((k) => k.name)).toContain('split.h');
  });

  it('R % S != 0 (R = 5, stride 3): taps past R are guarded off, ceil(5/3) = 2 per phase', () => {
    const odd = defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 3, W: 3, K: 2, R: 5, S: 5, stride: 3, pad: 1 });
    const { def } = phaseAxes(odd)!;
    expect(names(def.spatial)).toEqual(['n:1', 'k:2', 'h_o:3', 'h_p:3', 'w_o:3', 'w_p:3']);
    expect(names(def.reduce)).toEqual(['c:2', 'r_o:2', 's_o:2']);
    expect(def.body.k).toBe('select');
    const cond = def.body.k === 'select' ? def.body.cond : def.body;
    expect(cond.k === 'and' && cond.terms.map((t) => t.k === 'cmp' && t.b.k === 'int' && t.b.v)).toEqual([5, 5]);
    expect(ops(def.body).filter((op) => op === '%')).toHaveLength(4);   // tap phases only (guard and W index)
  });

  it('a dimension whose output extent the stride does not divide keeps its axes (and its guard)', () => {
    // h: R = 4 gives 8 outputs; w: S = 3 gives 9, odd
    const mixed = defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 4, W: 5, K: 3, R: 4, S: 3, stride: 2, pad: 1 });
    const { def, views } = phaseAxes(mixed)!;
    expect(names(def.spatial)).toEqual(['n:1', 'k:3', 'h_o:4', 'h_p:2', 'w:9']);
    expect(names(def.reduce)).toEqual(['c:2', 'r_o:2', 's:3']);
    expect(views).toEqual([{ tensor: 'O', shape: [1, 3, 4, 2, 9] }]);
    expect(ops(def.body).filter((op) => op === '%')).toHaveLength(2);   // w's guard, r's phase in W
    // R = 3, pad 1 at stride 2: odd outputs in both dimensions, nothing decomposes
    expect(phaseAxes(defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 4, W: 4, K: 2, R: 3, S: 3, stride: 2, pad: 1 }))).toBeNull();
  });

  it('definitions without the pattern are returned unchanged', () => {
    const defs = [
      defineWorkload('conv2d', { N: 1, C: 3, H: 9, W: 7, K: 5, R: 3, S: 3, stride: 2, pad: 1 }),
      defineWorkload('gemm', { M: 15, N: 13, K: 7 }),
      defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 4, W: 4, K: 2, R: 4, S: 4, stride: 1, pad: 1 }),             // no guard
      defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 5, W: 4, K: 3, R: 3, S: 3, stride: 2, pad: 1, dilation: 2 }), // tap stride 2
    ];
    for (const def of defs) {
      expect(phaseAxes(def)).toBeNull();
      expect(phaseDef(def)).toBe(def);
    }
  });
});

describe('random configs of the decomposed space match the reference on every element', () => {
  it('conv_transpose2d, stride 2, R = 4, pad 1', () => {
    expectRandomConfigsCorrect(defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 4, W: 5, K: 3, R: 4, S: 4, stride: 2, pad: 1 }));
  });
  it('conv_transpose2d, one dimension decomposed (odd output along w)', () => {
    expectRandomConfigsCorrect(defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 4, W: 5, K: 3, R: 4, S: 3, stride: 2, pad: 1 }));
  });
  it('conv_transpose2d, R % S != 0 (R = 5, stride 3)', () => {
    expectRandomConfigsCorrect(defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 3, W: 3, K: 2, R: 5, S: 5, stride: 3, pad: 1 }));
  });
  it('conv_transpose1d, stride 2, R = 4', () => {
    const def = defineWorkload('conv_transpose1d', { N: 2, C: 3, L: 7, K: 5, R: 4, stride: 2, pad: 1 });
    expect(names(phaseDef(def).spatial)).toEqual(['n:2', 'k:5', 'l_o:7', 'l_p:2']);
    expectRandomConfigsCorrect(def, 10);
  });
  it('conv_transpose3d, stride 2, T = 2, R = 4, S = 2', () => {
    const def = defineWorkload('conv_transpose3d', { N: 1, C: 2, D: 3, H: 3, W: 2, K: 3, T: 2, R: 4, S: 2, stride: 2, pad: 1 });
    const decomposed = phaseDef(def);
    expect(names(decomposed.spatial)).toEqual(['n:1', 'k:3', 'd_o:2', 'd_p:2', 'h_o:3', 'h_p:2', 'w_o:1', 'w_p:2']);
    expect(names(decomposed.reduce)).toEqual(['c:2', 't_o:1', 'r_o:2', 's_o:1']);
    expect(guardOps(decomposed.body)).not.toContain('%');
    expectRandomConfigsCorrect(def, 4);
    // pad 0: every phase's taps start at its own position, so no carry is left: u = o' - r'
    const unpadded = phaseDef(defineWorkload('conv_transpose3d', { N: 1, C: 2, D: 3, H: 3, W: 2, K: 3, T: 2, R: 4, S: 2, stride: 2 }));
    expect(names(unpadded.spatial)).toEqual(['n:1', 'k:3', 'd_o:3', 'd_p:2', 'h_o:4', 'h_p:2', 'w_o:2', 'w_p:2']);
    expect(ops(unpadded.body).filter((op) => op === '/' || op === '%')).toEqual([]);
    expectRandomConfigsCorrect(defineWorkload('conv_transpose3d', { N: 1, C: 2, D: 3, H: 3, W: 2, K: 3, T: 2, R: 4, S: 2, stride: 2 }), 3);
  });
});

describe('the template schedules the decomposed definition', () => {
  const def = defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 4, W: 8, K: 4, R: 4, S: 4, stride: 2, pad: 1 });
  const base: Config = {
    'split.n': [1, 1, 1, 1], 'split.k': [1, 1, 1, 4], 'split.h_o': [2, 1, 2, 1], 'split.h_p': [1, 1, 2, 1], 'split.w_o': [1, 1, 2, 4], 'split.w_p': [1, 1, 2, 1],
    'split.c': [1, 1, 2], 'split.r_o': [1, 1, 2], 'split.s_o': [1, 1, 2], reorder: 1, unroll: [0, 0],
  };

  it('vector w_o with I padded: a guard-free multiply-add, vectorised along the inner output axis', () => {
    const nest = cpuTemplate.lower(def, { ...base, vector: 4, 'pad.I': 1, 'pack.W': 0 });
    expect(statements(nest).filter((s) => s.k === 'view').map((s) => s.k === 'view' && s.shape)).toEqual([[1, 4, 4, 2, 8, 2]]);
    expect(statements(nest).some((s) => s.k === 'loop' && s.kind === 'vector' && s.v === 'w_o_3')).toBe(true);
    const mads = statements(nest).filter((s): s is Extract<Stmt, { k: 'store' }> => s.k === 'store' && s.tensor === 'acc' && !!s.accumulate);
    expect(mads.length).toBeGreaterThan(0);
    for (const s of mads) expect(JSON.stringify(s.value)).not.toContain('select');
    expectMatchesReference(def, nest, 'vector w_o');
  });

  it('vector k with W packed', () => {
    const nest = cpuTemplate.lower(def, { ...base, vector: 1, 'pack.W': 1, 'pad.I': 0 });
    expect(statements(nest).some((s) => s.k === 'loop' && s.kind === 'vector' && s.v === 'k_3')).toBe(true);
    expect(statements(nest).some((s) => s.k === 'alloc' && s.name === 'W_packed')).toBe(true);
    expectMatchesReference(def, nest, 'vector k');
  });

  it('an old-style config (the original axes) is planned on the original definition, as before', () => {
    const old: Config = {
      'split.n': [1, 1, 1, 1], 'split.k': [1, 1, 1, 4], 'split.h': [2, 1, 2, 2], 'split.w': [2, 1, 2, 4],
      'split.c': [1, 1, 2], 'split.r': [1, 1, 4], 'split.s': [2, 1, 2], reorder: 1, unroll: [0, 0], vector: 1, 'pack.W': 1,
    };
    expect(() => cpuTemplate.check(def, old, {})).not.toThrow();
    const nest = cpuTemplate.lower(def, old);
    expect(statements(nest).some((s) => s.k === 'view')).toBe(false);
    const mads = statements(nest).filter((s): s is Extract<Stmt, { k: 'store' }> => s.k === 'store' && s.tensor === 'acc' && !!s.accumulate);
    expect(mads.some((s) => ops(s.value).includes('%'))).toBe(true);     // the divisibility guard is still there
    expectMatchesReference(def, nest, 'old-style');
  });

  it('a config naming both sets of axes is refused, naming the knobs', () => {
    const mixed: Config = { ...base, 'split.h': [2, 1, 2, 2] };
    expect(() => cpuTemplate.check(def, mixed, {})).toThrow(InstantiationError);
    expect(() => cpuTemplate.check(def, mixed, {})).toThrow(/'split.h' split the original axes and 'split.h_o', 'split.h_p', .* the phase-decomposed ones/);
  });
});

describe('compiled with gcc: decomposed kernels match the unscheduled reference kernel', () => {
  let cacheDir: string;
  let backend: CompiledBackend;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'flexfarm-cpu-phase-'));
    backend = createCpuBackend({ cacheDir, threads: 2, vectorWidth: 4 });
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('conv_transpose2d, stride 2, R = 4 and R = 5 at stride 3: random configs', async () => {
    const defs = [
      defineWorkload('conv_transpose2d', { N: 1, C: 3, H: 4, W: 5, K: 5, R: 4, S: 4, stride: 2, pad: 1 }),
      defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 3, W: 3, K: 2, R: 5, S: 5, stride: 3, pad: 1 }),
    ];
    const protocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 60_000 };
    const candidates = defs.flatMap((def, d) => randomValidConfigs(cpuTemplate, def, backend.limits, 6, 21 + d)
      .map((config, i) => ({ id: `phase-${d}-${i}`, workload: def.key, target: 'cpu' as const, config })));
    expect(candidates).toHaveLength(12);
    const results = await Promise.all(candidates.map((c) => backend.measure(c, protocol)));
    expect(results.filter((r) => r.error).map((r) => `${JSON.stringify(r.config)} → ${r.error!.code}: ${r.error!.message}`)).toEqual([]);
  }, 300_000);
});
