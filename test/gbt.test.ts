// The cost model's boosted trees: splits found from per-bin histograms must be the trees a plain
// scan of every sample at every node finds (the reference below), up to rounding; whole-number
// weights must act as repeated samples (bootstrap resamples), and block predictions as single ones.
import { describe, expect, it } from 'vitest';
import { Gbt } from '../coordinator/explore/gbt.ts';
import { GbtSamples } from '../coordinator/explore/gbt-samples.ts';
import { Rng } from '../coordinator/explore/rng.ts';

type Tree = { leaf: true; value: number } | { leaf: false; f: number; t: number; l: Tree; r: Tree };

/** The obvious algorithm: at every node scan all samples in each feature's order, members only. */
function referencePredictor(xs: number[][], ys: number[], trees = 60, depth = 4, rate = 0.15, minLeaf = 2) {
  const n = ys.length, F = xs[0].length;
  const base = ys.reduce((a, b) => a + b, 0) / n;
  const sorted = Array.from({ length: F }, (_, f) => Array.from({ length: n }, (_, i) => i).sort((a, b) => xs[a][f] - xs[b][f]));
  const evaluate = (node: Tree, x: number[]): number => (node.leaf ? node.value : evaluate(x[node.f] <= node.t ? node.l : node.r, x));
  const grow = (r: number[], member: boolean[], d: number): Tree => {
    let sum = 0, count = 0;
    for (let i = 0; i < n; i++) if (member[i]) { sum += r[i]; count++; }
    if (d >= depth || count < 2 * minLeaf) return { leaf: true, value: sum / count };
    let best = 1e-12, bf = -1, bt = 0;
    for (let f = 0; f < F; f++) {
      const members = sorted[f].filter((i) => member[i]);
      let ls = 0;
      for (let k = 0; k < members.length - 1; k++) {
        ls += r[members[k]];
        const lc = k + 1;
        if (lc < minLeaf || count - lc < minLeaf || xs[members[k + 1]][f] === xs[members[k]][f]) continue;
        const gain = (ls * ls) / lc + ((sum - ls) ** 2) / (count - lc) - (sum * sum) / count;
        if (gain > best) { best = gain; bf = f; bt = (xs[members[k]][f] + xs[members[k + 1]][f]) / 2; }
      }
    }
    if (bf < 0) return { leaf: true, value: sum / count };
    return { leaf: false, f: bf, t: bt, l: grow(r, member.map((m, i) => m && xs[i][bf] <= bt), d + 1), r: grow(r, member.map((m, i) => m && xs[i][bf] > bt), d + 1) };
  };
  const forest: Tree[] = [];
  const prediction = ys.map(() => base);
  for (let t = 0; t < trees; t++) {
    const tree = grow(ys.map((y, i) => y - prediction[i]), ys.map(() => true), 0);
    forest.push(tree);
    xs.forEach((x, i) => { prediction[i] += rate * evaluate(tree, x); });
  }
  return (x: number[]) => forest.reduce((y, tree) => y + rate * evaluate(tree, x), base);
}

describe('gradient-boosted trees', () => {
  it('find the same trees as a scan of every sample at every node, up to rounding (few distinct values, constant features, ties)', () => {
    const rng = new Rng(7);
    const xs = Array.from({ length: 150 }, () => [rng.int(6), rng.int(3) * 0.5, 1, rng.float(), rng.int(2)]);
    const ys = xs.map((x) => Math.log(1 + x[0] * x[1]) + (x[4] ? 0.3 : 0) + 0.1 * rng.float());
    const ours = new Gbt().fit(xs, ys), reference = referencePredictor(xs, ys);
    for (let k = 0; k < 200; k++) {
      const x = [rng.int(6), rng.int(3) * 0.5, 1, rng.float(), rng.int(2)];
      expect(ours.predict(x)).toBeCloseTo(reference(x), 10);
    }
  });

  it('take whole-number weights as repeated samples, a weight of 0 as a sample left out', () => {
    const rng = new Rng(3);
    const xs = Array.from({ length: 60 }, () => [rng.int(5), rng.int(4) * 0.25, rng.int(2)]);
    const ys = xs.map((x) => x[0] * x[1] + x[2] + 0.05 * rng.float());
    const weights = xs.map(() => rng.int(3));
    const repeated = xs.flatMap((x, i) => Array.from({ length: weights[i] }, () => x));
    const repeatedYs = ys.flatMap((y, i) => Array.from({ length: weights[i] }, () => y));
    const weighted = new Gbt().fitSamples(new GbtSamples(xs), ys, weights), plain = new Gbt().fit(repeated, repeatedYs);
    // On the samples they learn from (the others may fall on either side of a tied split).
    xs.forEach((x, i) => { if (weights[i]) expect(weighted.predict(x)).toBeCloseTo(plain.predict(x), 9); });
  });

  it('predict a block of rows exactly as row by row', () => {
    const rng = new Rng(5);
    const xs = Array.from({ length: 50 }, () => [rng.int(6), rng.float(), rng.int(2)]);
    const model = new Gbt().fit(xs, xs.map((x) => x[0] + x[1] * x[2]));
    const rows = new Float64Array(xs.flat()), out = new Float64Array(xs.length);
    model.predictRows(rows, 3, 47, out); // 47: four-row blocks and a tail
    for (let i = 0; i < 47; i++) expect(out[i]).toBe(model.predict(xs[i]));
  });

  it('learn a step: the prediction follows the feature that decides y', () => {
    const xs = Array.from({ length: 40 }, (_, i) => [i % 5, i]);
    const model = new Gbt().fit(xs, xs.map((x) => (x[1] < 20 ? 0 : 1)));
    expect(model.predict([0, 5])).toBeLessThan(0.1);
    expect(model.predict([0, 35])).toBeGreaterThan(0.9);
  });
});
