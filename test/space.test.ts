// The schedule space: sizes equal hand counts and FlexTensor's published count, split directions
// move factors the way FlexTensor defines them (and stay in the space in imperfect mode too),
// neighbours and random points stay in the space, configs round-trip, features are normalised.
import { describe, expect, it } from 'vitest';
import { Space, SpaceError, type Point } from '../coordinator/space.ts';
import { Rng } from '../coordinator/explore/rng.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
// FlexTensor's space (splits, reorder, unroll): the one the sim landscape models.
import { cpuClassicTemplate as cpuTemplate } from '../tensor/templates/cpu.ts';
import { checkFactors, splitEntities } from '../tensor/templates/split.ts';
import type { Knob } from '../tensor/templates/template.ts';

const gemm = (M: number, N: number, K: number) => defineWorkload('gemm', { M, N, K });
const yoloC4 = () => defineWorkload('conv2d', { N: 1, C: 128, H: 56, W: 56, K: 256, R: 3, S: 3, stride: 1, pad: 1 });
const splitKnob = (name: string, extent: number, parts: number, exact: boolean): Knob => ({
  name, kind: 'split', entities: splitEntities(extent, parts, exact), axis: { name, extent, reduce: false },
});
const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

describe('size', () => {
  it('equals hand counts: gemm 4x6x2 exact = 10 * 16 * 3 splits x 3 reorders x 8 unrolls', () => {
    // 4 = 2^2 in 4 parts: C(5,3) = 10; 6 = 2*3 in 4 parts: 4 * 4 = 16; 2 in 3 parts: 3.
    const space = new Space(cpuTemplate.knobs(gemm(4, 6, 2), { exactSplits: true }));
    expect(space.subspaces.map((s) => s.size)).toEqual([10, 16, 3, 3, 8]);
    expect(space.size).toBe(10n * 16n * 3n * 3n * 8n);
  });

  it('counts imperfect splits by hand: extent 3 in 2 parts has 3 entities, in 4 parts 7', () => {
    // inner factors from {1, 2, 3} with product <= 3: (1) (2) (3); and 1 + 3 + 3 triples.
    const space = new Space([splitKnob('a', 3, 2, false), splitKnob('b', 3, 4, false)]);
    expect(space.size).toBe(21n);
  });

  it("is FlexTensor's 43,188,288 for GEMM 1024^3 with exact splits and its 8 unroll entities", () => {
    const knobs = cpuTemplate.knobs(gemm(1024, 1024, 1024), { exactSplits: true }).filter((k) => k.name !== 'reorder');
    const space = new Space(knobs);
    expect(space.size).toBe(43_188_288n);
    expect(space.subspaces.map((s) => s.name)).toEqual(['split.m', 'split.n', 'split.k', 'unroll']);
  });

  it('refuses knobs that cannot form a space, naming the knob', () => {
    expect(() => new Space([])).toThrow(SpaceError);
    expect(() => new Space([{ name: 'x', kind: 'choice', entities: [] }])).toThrow(/knob x has no entities/);
    const k: Knob = { name: 'x', kind: 'choice', entities: [1, 2] };
    expect(() => new Space([k, k])).toThrow(/knob x appears twice/);
  });
});

describe('directions', () => {
  it('exact split: 4 parts give 12 ordered pairs; (i, j) grows f_i to the next divisor of f_i*f_j', () => {
    const space = new Space([splitKnob('m', 1024, 4, true)]);
    expect(space.subspaces[0].directions).toHaveLength(12);
    const at = (f: number[]): Point => space.fromConfig({ m: f })!;
    const d = (i: number, j: number) => space.subspaces[0].directions.findIndex((x) => x.kind === 'split' && x.grow === i && x.shrink === j);
    const moved = (f: number[], i: number, j: number) => {
      const p = space.move(at(f), 0, d(i, j));
      return p ? space.toConfig(p).m : null;
    };
    expect(moved([4, 2, 8, 16], 1, 2)).toEqual([4, 4, 4, 16]);
    expect(moved([4, 2, 8, 16], 3, 0)).toEqual([2, 2, 8, 32]);
    expect(moved([4, 2, 8, 16], 0, 3)).toEqual([8, 2, 8, 8]);
    expect(moved([4, 1, 8, 32], 3, 1)).toBeNull(); // f_j = 1: nothing to move
  });

  it('exact split on a non-power-of-two: 12 = [1, 2, 6], grow 1 from 6 gives 3 (divides 12), 2 becomes 4', () => {
    const space = new Space([splitKnob('m', 12, 3, true)]);
    const d = space.subspaces[0].directions.findIndex((x) => x.kind === 'split' && x.grow === 1 && x.shrink === 2);
    expect(space.toConfig(space.move(space.fromConfig({ m: [1, 2, 6] })!, 0, d)!).m).toEqual([1, 3, 4]);
  });

  it('imperfect split: every move lands on a valid entity with f_i larger and f_j not larger', () => {
    for (const [extent, parts] of [[7, 4], [56, 4], [13, 3], [100, 3], [1, 4]]) {
      const space = new Space([splitKnob('a', extent, parts, false)]);
      const sub = space.subspaces[0];
      for (let index = 0; index < sub.size; index++) {
        const f = sub.knob.entities[index] as number[];
        sub.directions.forEach((dir, d) => {
          const p = space.move([index], 0, d);
          if (!p) return;
          const g = space.toConfig(p).a as number[];
          expect(checkFactors(g, parts, extent)).toBeNull();
          if (dir.kind !== 'split') throw new Error('split knob with a cyclic direction');
          expect(g[dir.grow]).toBeGreaterThan(f[dir.grow]);
          expect(g[dir.shrink]).toBeLessThanOrEqual(f[dir.shrink]);
          // factors other than the pair and the derived outer one never change
          for (let k = 1; k < parts; k++) if (k !== dir.grow && k !== dir.shrink) expect(g[k]).toBe(f[k]);
        });
      }
    }
  });

  it('imperfect split on a prime extent still moves: 7 = [7,1,1,1] can grow inner factors', () => {
    const space = new Space([splitKnob('a', 7, 4, false)]);
    const neighbours = space.neighbours(space.fromConfig({ a: [7, 1, 1, 1] })!).map((p) => space.toConfig(p).a);
    expect(neighbours).toContainEqual([4, 2, 1, 1]);
    expect(neighbours).toContainEqual([4, 1, 1, 2]);
    expect(neighbours.every((f) => product((f as number[]).slice(1)) <= 7)).toBe(true);
  });

  it('imperfect split on 28: doubling moves step over divisors (4 -> 8 -> 16), next-value moves do not', () => {
    const space = new Space([splitKnob('w', 28, 4, false)]);
    const sub = space.subspaces[0];
    expect(sub.directions).toHaveLength(24); // 12 next-value + 12 doubling
    const find = (i: number, j: number, double: boolean) => sub.directions.findIndex((x) => x.kind === 'split' && x.grow === i && x.shrink === j && !!x.double === double);
    const moved = (f: number[], i: number, j: number, double: boolean) => {
      const p = space.move(space.fromConfig({ w: f })!, 0, find(i, j, double));
      return p ? space.toConfig(p).w : null;
    };
    expect(moved([7, 1, 1, 4], 3, 0, false)).toEqual([4, 1, 1, 7]);
    expect(moved([7, 1, 1, 4], 3, 0, true)).toEqual([4, 1, 1, 8]);
    expect(moved([4, 1, 1, 8], 3, 0, true)).toEqual([2, 1, 1, 16]);
    expect(moved([2, 1, 1, 16], 3, 0, true)).toBeNull(); // 32 > 28: no such entity
    expect(moved([2, 1, 2, 8], 3, 2, true)).toEqual([2, 1, 1, 16]); // the pair's tile does not grow
    expect(moved([2, 1, 1, 16], 0, 3, true)).toEqual([4, 1, 1, 8]); // outer grows, f_j at most halves
    // Exact sub-spaces (and powers of two) keep FlexTensor's 12 directions only.
    expect(new Space([splitKnob('m', 1024, 4, false)]).subspaces[0].directions).toHaveLength(12);
  });

  it('choice sub-spaces move -1 and +1, cyclic', () => {
    const space = new Space([{ name: 'reorder', kind: 'choice', entities: [0, 1, 2] }]);
    expect(space.neighbours([0]).map((p) => p[0]).sort()).toEqual([1, 2]);
    expect(space.neighbours([2]).map((p) => p[0]).sort()).toEqual([0, 1]);
    const single = new Space([{ name: 'x', kind: 'choice', entities: [5] }]);
    expect(single.neighbours([0])).toEqual([]);
  });
});

describe('points', () => {
  const spaces = () => [
    new Space(cpuTemplate.knobs(gemm(1024, 1024, 1024))),
    new Space(cpuTemplate.knobs(gemm(1024, 1024, 1024), { exactSplits: true })),
    new Space(cpuTemplate.knobs(yoloC4())),
    new Space(cpuTemplate.knobs(gemm(13, 17, 11))),
  ];

  it('random points and all their neighbours are in the space, differ in one sub-space, and are distinct', () => {
    const rng = new Rng(3);
    for (const space of spaces()) {
      for (let t = 0; t < 40; t++) {
        const p = space.randomPoint(rng);
        expect(space.contains(p)).toBe(true);
        const neighbours = space.neighbours(p);
        expect(neighbours.length).toBeGreaterThan(0);
        const keys = new Set(neighbours.map((n) => space.pointKey(n)));
        expect(keys.size).toBe(neighbours.length);
        expect(keys.has(space.pointKey(p))).toBe(false);
        for (const n of neighbours) {
          expect(space.contains(n)).toBe(true);
          expect(n.filter((x, s) => x !== p[s])).toHaveLength(1);
          expect(space.fromConfig(space.toConfig(n))).toEqual(n);
        }
      }
    }
  });

  it('configs round-trip and pass the template check; foreign configs map to null', () => {
    const def = yoloC4();
    const space = new Space(cpuTemplate.knobs(def));
    const rng = new Rng(9);
    for (let t = 0; t < 50; t++) {
      const p = space.randomPoint(rng);
      const config = space.toConfig(p);
      expect(space.fromConfig(JSON.parse(JSON.stringify(config)))).toEqual(p);
      expect(space.pointKey(space.fromConfig(config)!)).toBe(space.pointKey(p));
    }
    const config = space.toConfig(space.randomPoint(rng));
    expect(space.fromConfig({ ...config, reorder: 7 })).toBeNull();
    expect(space.fromConfig({ ...config, 'split.k': [1, 1, 1, 1] })).toBeNull();
    const { reorder: _dropped, ...missing } = config;
    expect(space.fromConfig(missing)).toBeNull();
  });

  it('features: one value per split factor (log2 / log2 extent) and one-hot choices, within [0, 1]', () => {
    const space = new Space(cpuTemplate.knobs(gemm(1024, 1024, 1024)));
    expect(space.featureLength).toBe(4 + 4 + 3 + 3 + 8);
    const p = space.fromConfig({ 'split.m': [8, 4, 2, 16], 'split.n': [1, 1, 1, 1024], 'split.k': [1024, 1, 1], reorder: 2, unroll: [512, 1] })!;
    expect(space.features(p)).toEqual([
      0.3, 0.2, 0.1, 0.4, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0,
    ]);
    const rng = new Rng(1);
    for (let t = 0; t < 20; t++) {
      for (const x of space.features(space.randomPoint(rng))) expect(x >= 0 && x <= 1).toBe(true);
    }
  });

  it('the seeded generator repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number) => { const r = new Rng(seed); return Array.from({ length: 5 }, () => r.int(1000)); };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });
});
