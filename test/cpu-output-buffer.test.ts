// The output buffer (tensor/templates/cpu-output-buffer.ts): tiles that accumulate across outer
// reduce loops, with a vector axis that is not the output's innermost dimension, keep their
// partial sums in a buffer blocked like the tiles and write the output once per parallel tile.
import { describe, expect, it } from 'vitest';
import { statements, type Expr, type Stmt } from '../tensor/ir.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { evaluate, makeInputs } from '../tensor/reference.ts';
import { cpuTemplate } from '../tensor/templates/cpu.ts';
import type { Config } from '../tensor/templates/template.ts';
import { runNest } from './helpers/run-nest.ts';

// Odd extents everywhere: k (the vector axis) ends in a masked partial vector, h and w in tails.
const def = defineWorkload('conv2d', { N: 1, C: 6, H: 7, W: 5, K: 11, R: 3, S: 3, stride: 1, pad: 1 });
const base: Config = {
  'split.n': [1, 1, 1, 1], 'split.k': [2, 1, 1, 8], 'split.h': [2, 1, 2, 2], 'split.w': [2, 1, 1, 4],
  'split.c': [3, 1, 2], 'split.r': [1, 3, 1], 'split.s': [3, 1, 1], reorder: 2, unroll: [0, 0], vector: 1, 'pack.W': 1, 'pad.I': 1,
};

const stores = (s: Stmt) => statements(s).filter((st): st is Extract<Stmt, { k: 'store' }> => st.k === 'store');
const loads = (e: Expr): Extract<Expr, { k: 'load' }>[] =>
  e.k === 'load' ? [e, ...e.index.flatMap(loads)] : e.k === 'bin' || e.k === 'select' ? [...loads(e.a), ...loads(e.b)] : [];
const allLoads = (s: Stmt) => stores(s).flatMap((st) => loads(st.value));
const allocs = (s: Stmt) => statements(s).filter((st): st is Extract<Stmt, { k: 'alloc' }> => st.k === 'alloc');

describe('the output buffer', () => {
  const inputs = makeInputs(def);
  const expected = Array.from(evaluate(def, inputs));

  const accumulating: [string, Config][] = [
    ['reduce blocks outside the tile loops (reorder 2)', {}],
    ['reduce blocks between the tile loops (reorder 0)', { reorder: 0 }],
    ['ragged parallel tiles (h in 2 parts of 4 rows over 7)', { 'split.h': [2, 2, 1, 2] }],
  ];
  for (const [name, extra] of accumulating) {
    it(`${name}: partial sums live in O_acc, the output is written once per point, the result is exact`, () => {
      const nest = cpuTemplate.lower(def, { ...base, ...extra });
      expect(allocs(nest).map((a) => a.name)).toContain('O_acc');
      // O is only written (by the copy), never read back: no pass over the output per reduce block.
      expect(allLoads(nest).filter((l) => l.tensor === 'O')).toEqual([]);
      expect(stores(nest).filter((st) => st.tensor === 'O')).toHaveLength(1);
      expect(Array.from(runNest(def, nest, inputs).get('O')!.data)).toEqual(expected);
    });
  }

  it('the tile block is contiguous: the vector axis is the buffer\'s innermost dimension, next to the other tile axes', () => {
    const nest = cpuTemplate.lower(def, base);
    const buffer = allocs(nest).find((a) => a.name === 'O_acc')!;
    // level 0 (k, h, w), level 2 (h), level 3 in the tile's order (h, w, then k last).
    expect(buffer.shape).toEqual([2, 2, 2, 2, 2, 4, 8]);
  });

  const unbuffered: [string, Config][] = [
    ['no outer reduce iterations (reorder 1)', { ...base, reorder: 1 }],
    ['a vector axis that is the output\'s innermost (w)', { ...base, vector: 3, 'pack.W': 0, 'split.w': [1, 1, 1, 5], 'split.k': [11, 1, 1, 1] }],
  ];
  for (const [name, config] of unbuffered) {
    it(`is not used with ${name}`, () => {
      const nest = cpuTemplate.lower(def, config);
      expect(allocs(nest).map((a) => a.name)).not.toContain('O_acc');
      expect(Array.from(runNest(def, nest, inputs).get('O')!.data)).toEqual(expected);
    });
  }
});
