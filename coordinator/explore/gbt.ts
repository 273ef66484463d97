// Gradient-boosted regression trees (squared loss) for the `model` explorer's cost model: small
// data (hundreds of points, tens of features), so exact greedy splits over pre-sorted features.

export interface GbtOptions {
  trees?: number;
  depth?: number;
  learningRate?: number;
  minLeaf?: number;
}

type Node = { leaf: true; value: number } | { leaf: false; feature: number; threshold: number; left: Node; right: Node };

export class Gbt {
  private readonly trees: Node[] = [];
  private base = 0;
  private readonly options: Required<GbtOptions>;

  constructor(options: GbtOptions = {}) {
    this.options = { trees: 60, depth: 4, learningRate: 0.15, minLeaf: 2, ...options };
  }

  fit(xs: number[][], ys: number[]): this {
    this.trees.length = 0;
    const n = ys.length;
    if (!n) return this;
    this.base = ys.reduce((a, b) => a + b, 0) / n;
    const features = xs[0].length;
    // Column-major copy of the samples, and their indices sorted by each feature, once.
    const columns = new Float64Array(features * n);
    for (let f = 0; f < features; f++) for (let i = 0; i < n; i++) columns[f * n + i] = xs[i][f];
    const sorted = new Int32Array(features * n);
    for (let f = 0; f < features; f++) {
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => xs[a][f] - xs[b][f]);
      sorted.set(order, f * n);
    }
    const work: Work = {
      n, features, columns, residual: new Float64Array(n),
      sorted: new Int32Array(features * n), byIndex: new Int32Array(n), scratch: new Int32Array(n), left: new Uint8Array(n),
    };
    const prediction = new Float64Array(n).fill(this.base);
    for (let t = 0; t < this.options.trees; t++) {
      for (let i = 0; i < n; i++) work.residual[i] = ys[i] - prediction[i];
      // Each tree partitions its own copy: a node is the same range of every feature's order.
      work.sorted.set(sorted);
      for (let i = 0; i < n; i++) work.byIndex[i] = i;
      const tree = this.grow(work, 0, n, 0);
      this.trees.push(tree);
      for (let i = 0; i < n; i++) prediction[i] += this.options.learningRate * evaluate(tree, xs[i]);
    }
    return this;
  }

  predict(x: number[]): number {
    let y = this.base;
    for (const tree of this.trees) y += this.options.learningRate * evaluate(tree, x);
    return y;
  }

  /** Grow a node over the samples in range [lo, hi) of every order (exact greedy splits; the
   *  sums run in the same order as a scan of all samples would, so the trees are the same). */
  private grow(w: Work, lo: number, hi: number, depth: number): Node {
    const { n, columns, residual: r, sorted, byIndex } = w;
    const count = hi - lo;
    let sum = 0;
    for (let k = lo; k < hi; k++) sum += r[byIndex[k]];
    const mean = sum / count;
    if (depth >= this.options.depth || count < 2 * this.options.minLeaf) return { leaf: true, value: mean };
    const minLeaf = this.options.minLeaf;
    let bestGain = 1e-12, bestFeature = -1, bestThreshold = 0;
    for (let f = 0; f < w.features; f++) {
      const base = f * n, column = base;
      // A feature constant over the node has no split (many are: knobs fixed at 1, levels alike).
      if (columns[column + sorted[base + lo]] === columns[column + sorted[base + hi - 1]]) continue;
      let leftSum = 0, leftCount = 0;
      for (let k = lo; k < hi - 1; k++) {
        const i = sorted[base + k];
        leftSum += r[i];
        leftCount++;
        if (leftCount < minLeaf || count - leftCount < minLeaf) continue;
        // Split only between distinct values.
        const x = columns[column + i], next = columns[column + sorted[base + k + 1]];
        if (next === x) continue;
        const rightSum = sum - leftSum, rightCount = count - leftCount;
        const gain = (leftSum * leftSum) / leftCount + (rightSum * rightSum) / rightCount - (sum * sum) / count;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = f;
          bestThreshold = (x + next) / 2;
        }
      }
    }
    if (bestFeature < 0) return { leaf: true, value: mean };
    const goesLeft = w.left;
    let leftCount = 0;
    for (let k = lo; k < hi; k++) {
      const i = byIndex[k];
      goesLeft[i] = columns[bestFeature * n + i] <= bestThreshold ? 1 : 0;
      leftCount += goesLeft[i];
    }
    partition(byIndex, 0, lo, hi, goesLeft, w.scratch);
    for (let f = 0; f < w.features; f++) partition(sorted, f * n, lo, hi, goesLeft, w.scratch);
    return {
      leaf: false, feature: bestFeature, threshold: bestThreshold,
      left: this.grow(w, lo, lo + leftCount, depth + 1),
      right: this.grow(w, lo + leftCount, hi, depth + 1),
    };
  }
}

/** Buffers of one fit, reused by every tree. */
interface Work {
  n: number;
  features: number;
  /** Feature f of sample i at f * n + i. */
  columns: Float64Array;
  residual: Float64Array;
  /** Per feature (at f * n), the samples in increasing order of that feature, node by node. */
  sorted: Int32Array;
  /** The samples in increasing index order, node by node. */
  byIndex: Int32Array;
  scratch: Int32Array;
  left: Uint8Array;
}

/** Stable partition of order[offset + lo .. offset + hi) into the samples that go left, then the others. */
function partition(order: Int32Array, offset: number, lo: number, hi: number, goesLeft: Uint8Array, scratch: Int32Array): void {
  let l = offset + lo, rCount = 0;
  for (let k = offset + lo; k < offset + hi; k++) {
    const i = order[k];
    if (goesLeft[i]) order[l++] = i;
    else scratch[rCount++] = i;
  }
  order.set(scratch.subarray(0, rCount), l);
}

function evaluate(node: Node, x: number[]): number {
  while (!node.leaf) node = x[node.feature] <= node.threshold ? node.left : node.right;
  return node.value;
}
