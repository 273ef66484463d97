// Gradient-boosted regression trees (squared loss) for the `model` explorer's cost model: small
// data (hundreds of points, tens of features, few distinct values each), so exact greedy splits
// found from per-bin histograms (gbt-samples.ts), the smaller child's histogram built and its
// sibling's taken by subtraction. Trees are complete and stored flat in typed arrays (node j's
// children at 2j + 1 and 2j + 2), so that ranking thousands of candidates allocates nothing.
import { GbtSamples } from './gbt-samples.ts';

export interface GbtOptions {
  trees?: number;
  depth?: number;
  learningRate?: number;
  minLeaf?: number;
}

/** Buffers of one fit, reused by every tree. */
interface Work {
  samples: GbtSamples;
  weights: Float64Array;
  /** Weight times residual, per sample. */
  weighted: Float64Array;
  /** Samples of non-zero weight, in index order node by node: a node is a range of it. */
  members: Int32Array;
  scratch: Int32Array;
  /** Per depth, the histograms of a left and a right child: per bin, the weighted residual sum
   *  at 2b and the weight at 2b + 1. */
  histograms: Float64Array[][];
  tree: number;
}

export class Gbt {
  private readonly options: Required<GbtOptions>;
  private readonly nodesPerTree: number;
  private base = 0;
  private treeCount = 0;
  /** Per inner node: split feature (0 where the node passes everything left). */
  private readonly feature: Int32Array;
  /** Per inner node: split threshold (go left when x <= threshold); per leaf: its value. */
  private readonly threshold: Float64Array;
  /** Per inner node: the split's last bin going left and its feature's place among the active
   *  ones, for predictions on the training samples. */
  private readonly splitBin: Int32Array;
  private readonly splitActive: Int32Array;

  constructor(options: GbtOptions = {}) {
    this.options = { trees: 60, depth: 4, learningRate: 0.15, minLeaf: 2, ...options };
    this.nodesPerTree = 2 ** (this.options.depth + 1) - 1;
    const nodes = this.options.trees * this.nodesPerTree;
    this.feature = new Int32Array(nodes);
    this.threshold = new Float64Array(nodes);
    this.splitBin = new Int32Array(nodes);
    this.splitActive = new Int32Array(nodes);
  }

  fit(xs: readonly ArrayLike<number>[], ys: ArrayLike<number>): this {
    return this.fitSamples(new GbtSamples(xs), ys);
  }

  /** Fit on binned samples; `weights` (default 1 each) are counts (of a bootstrap resample) or
   *  fractions (a prior's samples, worth less than the workload's own), and a weight of 0 leaves
   *  the sample out; a leaf needs `minLeaf` of weight. Refitting replaces the previous trees. */
  fitSamples(samples: GbtSamples, ys: ArrayLike<number>, weights?: ArrayLike<number>): this {
    const n = samples.count;
    this.treeCount = 0;
    this.base = 0;
    const w = new Float64Array(n);
    let total = 0, weightedSum = 0, m = 0;
    for (let i = 0; i < n; i++) {
      w[i] = weights ? weights[i] : 1;
      total += w[i];
      weightedSum += w[i] * ys[i];
      if (w[i] > 0) m++;
    }
    if (!m) return this;
    this.base = weightedSum / total;
    const members = new Int32Array(m);
    for (let i = 0, k = 0; i < n; i++) if (w[i] > 0) members[k++] = i;
    const order = members.slice();
    const bins = samples.totalBins;
    const work: Work = {
      samples, weights: w, weighted: new Float64Array(n), members, scratch: new Int32Array(m),
      histograms: Array.from({ length: this.options.depth + 1 }, () => [new Float64Array(2 * bins), new Float64Array(2 * bins)]), tree: 0,
    };
    const prediction = new Float64Array(n).fill(this.base);
    const lr = this.options.learningRate;
    for (let t = 0; t < this.options.trees; t++) {
      for (const i of order) work.weighted[i] = w[i] * (ys[i] - prediction[i]);
      work.tree = t * this.nodesPerTree;
      members.set(order); // each tree partitions the members again, from index order
      const root = work.histograms[0][0];
      histogram(work, 0, m, root);
      this.grow(work, 0, 0, m, 0, root);
      this.treeCount = t + 1;
      for (const i of order) prediction[i] += lr * this.leafOfSample(work.tree, samples, i);
    }
    return this;
  }

  predict(x: ArrayLike<number>): number {
    let y = this.base;
    for (let t = 0; t < this.treeCount; t++) y += this.options.learningRate * this.leafOf(t * this.nodesPerTree, x, 0);
    return y;
  }

  /** Predictions of `count` rows of `features` values each, stored row after row in `rows`, into
   *  `out` (the same values as predict, row by row). Four rows walk each tree together, so their
   *  independent look-ups overlap; the loop reads only typed arrays. */
  predictRows(rows: Float64Array, features: number, count: number, out: Float64Array): void {
    const { feature, threshold, nodesPerTree, treeCount } = this;
    const lr = this.options.learningRate, depth = this.options.depth;
    let p = 0;
    for (; p + 4 <= count; p += 4) {
      const o0 = p * features, o1 = o0 + features, o2 = o1 + features, o3 = o2 + features;
      let y0 = this.base, y1 = this.base, y2 = this.base, y3 = this.base;
      for (let tree = 0; tree < treeCount * nodesPerTree; tree += nodesPerTree) {
        let j0 = 0, j1 = 0, j2 = 0, j3 = 0;
        for (let d = 0; d < depth; d++) {
          j0 = 2 * j0 + 1 + +(rows[o0 + feature[tree + j0]] > threshold[tree + j0]);
          j1 = 2 * j1 + 1 + +(rows[o1 + feature[tree + j1]] > threshold[tree + j1]);
          j2 = 2 * j2 + 1 + +(rows[o2 + feature[tree + j2]] > threshold[tree + j2]);
          j3 = 2 * j3 + 1 + +(rows[o3 + feature[tree + j3]] > threshold[tree + j3]);
        }
        y0 += lr * threshold[tree + j0];
        y1 += lr * threshold[tree + j1];
        y2 += lr * threshold[tree + j2];
        y3 += lr * threshold[tree + j3];
      }
      out[p] = y0; out[p + 1] = y1; out[p + 2] = y2; out[p + 3] = y3;
    }
    for (; p < count; p++) {
      const o = p * features;
      let y = this.base;
      for (let tree = 0; tree < treeCount * nodesPerTree; tree += nodesPerTree) {
        let j = 0;
        for (let d = 0; d < depth; d++) j = 2 * j + 1 + +(rows[o + feature[tree + j]] > threshold[tree + j]);
        y += lr * threshold[tree + j];
      }
      out[p] = y;
    }
  }

  // Every tree is complete (a node that does not split passes all samples to its left child), so
  // a prediction is `depth` steps without a branch on the node kind.
  private leafOf(tree: number, x: ArrayLike<number>, offset: number): number {
    const { feature, threshold } = this;
    let j = 0;
    for (let d = 0; d < this.options.depth; d++) j = 2 * j + 1 + +(x[offset + feature[tree + j]] > threshold[tree + j]);
    return threshold[tree + j];
  }

  private leafOfSample(tree: number, samples: GbtSamples, i: number): number {
    const { splitActive, splitBin } = this, { bins } = samples, row = i * samples.active.length;
    let j = 0;
    for (let d = 0; d < this.options.depth; d++) j = 2 * j + 1 + +(bins[row + splitActive[tree + j]] > splitBin[tree + j]);
    return this.threshold[tree + j];
  }

  /** Node `j` at `depth` is a leaf of value `value`: it and its left descendants pass every sample on. */
  private leaf(tree: number, j: number, depth: number, value: number): void {
    for (; depth < this.options.depth; depth++, j = 2 * j + 1) {
      this.feature[tree + j] = 0;
      this.threshold[tree + j] = Infinity;
      this.splitBin[tree + j] = 0x7fffffff;
      this.splitActive[tree + j] = 0;
    }
    this.threshold[tree + j] = value;
  }

  /** Grow node `j` of the current tree over members [lo, hi), whose histogram is given. */
  private grow(w: Work, j: number, lo: number, hi: number, depth: number, hist: Float64Array): void {
    const { members, weighted, weights, samples } = w;
    let sum = 0, count = 0;
    for (let k = lo; k < hi; k++) {
      const i = members[k];
      sum += weighted[i];
      count += weights[i];
    }
    const minLeaf = this.options.minLeaf;
    if (depth >= this.options.depth || count < 2 * minLeaf) return this.leaf(w.tree, j, depth, sum / count);
    let bestGain = 1e-12, bestActive = -1, bestBin = 0, bestThreshold = 0;
    const { binOffsets, binValues } = samples, parentTerm = (sum * sum) / count;
    for (let f = 0; f < samples.active.length; f++) {
      const end = binOffsets[f + 1];
      let leftSum = 0, leftCount = 0, previous = -1;
      for (let b = binOffsets[f]; b < end; b++) {
        const c = hist[2 * b + 1];
        if (c === 0) continue;
        // A split between the previous non-empty bin and this one (distinct values in the node).
        if (previous >= 0 && leftCount >= minLeaf && count - leftCount >= minLeaf) {
          const rightSum = sum - leftSum, rightCount = count - leftCount;
          const gain = (leftSum * leftSum) / leftCount + (rightSum * rightSum) / rightCount - parentTerm;
          if (gain > bestGain) {
            bestGain = gain;
            bestActive = f;
            bestBin = previous;
            bestThreshold = (binValues[previous] + binValues[b]) / 2;
          }
        }
        leftSum += hist[2 * b];
        leftCount += c;
        previous = b;
      }
    }
    if (bestActive < 0) return this.leaf(w.tree, j, depth, sum / count);
    const node = w.tree + j;
    this.feature[node] = samples.active[bestActive];
    this.threshold[node] = bestThreshold;
    this.splitBin[node] = bestBin;
    this.splitActive[node] = bestActive;
    // Stable partition of the members: those going left first.
    const width = samples.active.length, bins = samples.bins;
    let l = lo, rightCount = 0, leftWeight = 0;
    for (let k = lo; k < hi; k++) {
      const i = members[k];
      if (bins[i * width + bestActive] <= bestBin) { members[l++] = i; leftWeight += weights[i]; }
      else w.scratch[rightCount++] = i;
    }
    members.set(w.scratch.subarray(0, rightCount), l);
    const mid = l;
    // Children that will split need their histograms: the smaller one built, the other by subtraction.
    const childDepth = depth + 1;
    const [left, right] = w.histograms[childDepth];
    const leftSplits = childDepth < this.options.depth && leftWeight >= 2 * minLeaf;
    const rightSplits = childDepth < this.options.depth && count - leftWeight >= 2 * minLeaf;
    if (leftSplits || rightSplits) {
      const leftSmaller = mid - lo <= hi - mid;
      const small = leftSmaller ? left : right, big = leftSmaller ? right : left;
      if (leftSmaller) histogram(w, lo, mid, small);
      else histogram(w, mid, hi, small);
      for (let b = 0; b < hist.length; b++) big[b] = hist[b] - small[b];
    }
    this.grow(w, 2 * j + 1, lo, mid, childDepth, left);
    this.grow(w, 2 * j + 2, mid, hi, childDepth, right);
  }
}

/** The histogram of members [lo, hi): per bin, weighted residual sum and weight. */
function histogram(w: Work, lo: number, hi: number, hist: Float64Array): void {
  hist.fill(0);
  const { members, weighted, weights, samples } = w;
  const { bins } = samples, width = samples.active.length;
  for (let k = lo; k < hi; k++) {
    const i = members[k], row = i * width, wr = weighted[i], wi = weights[i];
    for (let f = 0; f < width; f++) {
      const b = 2 * bins[row + f];
      hist[b] += wr;
      hist[b + 1] += wi;
    }
  }
}
