// The `unroll` knob on the CPU template: max step 1 forbids unrolling the register tile's outer
// reduce loops (gcc would otherwise peel short ones whole, see cpu-lower.ts), and the innermost
// ones too with the reduce flag; max step 0 leaves every reduce loop to the compiler.
import { describe, expect, it } from 'vitest';
import { statements, type Stmt } from '../tensor/ir.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { cpuTemplate } from '../tensor/templates/cpu.ts';
import type { Config } from '../tensor/templates/template.ts';
import { runNest } from './helpers/run-nest.ts';
import { makeInputs, evaluate } from '../tensor/reference.ts';

const def = defineWorkload('conv2d', { N: 1, C: 4, H: 6, W: 6, K: 8, R: 3, S: 3, stride: 1, pad: 1 });
// Taps r and s at reduce level 1, channels at level 2.
const config = (unroll: [number, number]): Config => ({
  'split.n': [1, 1, 1, 1], 'split.k': [1, 1, 1, 8], 'split.h': [2, 1, 3, 1], 'split.w': [1, 1, 1, 6],
  'split.c': [1, 1, 4], 'split.r': [1, 3, 1], 'split.s': [1, 3, 1], reorder: 1, unroll, vector: 1, 'pack.W': 1, 'pad.I': 1,
});
/** The unroll hint of each loop of the nest whose variable names one of the given levels. */
const hints = (nest: Stmt, variable: RegExp): (number | undefined)[] =>
  statements(nest).flatMap((s) => (s.k === 'loop' && variable.test(s.v) ? [s.unroll] : []));

describe('unroll max step 1 on the tile\'s reduce loops', () => {
  it('forbids unrolling the taps at reduce level 1, and the level-2 loop only with the reduce flag', () => {
    const forbidOuter = cpuTemplate.lower(def, config([1, 0]));
    const r1 = hints(forbidOuter, /^[rs]_1$/);
    expect(r1.length).toBe(2);
    expect(r1).toEqual([1, 1]);
    expect(hints(forbidOuter, /^c_2$/)).toEqual([undefined]);
    expect(hints(cpuTemplate.lower(def, config([1, 1])), /^c_2$/)).toEqual([1]);
    expect(hints(cpuTemplate.lower(def, config([0, 0])), /^[rs]_1$/)).toEqual([undefined, undefined]);
    expect(hints(cpuTemplate.lower(def, config([512, 1])), /^[rs]_1$/)).toEqual([undefined, undefined]);
  });

  it('computes the same result with the taps kept loops', () => {
    const inputs = makeInputs(def);
    const expected = evaluate(def, inputs);
    const got = runNest(def, cpuTemplate.lower(def, config([1, 1])), inputs).get(def.output.name)!.data;
    expect(got.length).toBe(expected.length);
    expect(Math.max(...got.map((x, i) => Math.abs(x - expected[i])))).toBeLessThan(1e-3);
  });
});
