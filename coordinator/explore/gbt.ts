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
    // Sample indices sorted by each feature, once.
    const sorted = Array.from({ length: features }, (_, f) => Array.from({ length: n }, (_, i) => i).sort((a, b) => xs[a][f] - xs[b][f]));
    const prediction = new Float64Array(n).fill(this.base);
    const residual = new Float64Array(n);
    for (let t = 0; t < this.options.trees; t++) {
      for (let i = 0; i < n; i++) residual[i] = ys[i] - prediction[i];
      const all = new Uint8Array(n).fill(1);
      const tree = this.grow(xs, residual, sorted, all, n, 0);
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

  /** Grow a node over the samples with member[i] = 1. */
  private grow(xs: number[][], r: Float64Array, sorted: number[][], member: Uint8Array, count: number, depth: number): Node {
    let sum = 0;
    for (let i = 0; i < member.length; i++) if (member[i]) sum += r[i];
    const mean = sum / count;
    if (depth >= this.options.depth || count < 2 * this.options.minLeaf) return { leaf: true, value: mean };
    let bestGain = 1e-12, bestFeature = -1, bestThreshold = 0;
    for (let f = 0; f < sorted.length; f++) {
      let leftSum = 0, leftCount = 0;
      const order = sorted[f];
      for (let k = 0; k < order.length; k++) {
        const i = order[k];
        if (!member[i]) continue;
        leftSum += r[i];
        leftCount++;
        if (leftCount < this.options.minLeaf || count - leftCount < this.options.minLeaf) continue;
        // Split only between distinct values: look ahead to the next member.
        let next = k + 1;
        while (next < order.length && !member[order[next]]) next++;
        if (next >= order.length || xs[order[next]][f] === xs[i][f]) continue;
        const rightSum = sum - leftSum, rightCount = count - leftCount;
        const gain = (leftSum * leftSum) / leftCount + (rightSum * rightSum) / rightCount - (sum * sum) / count;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = f;
          bestThreshold = (xs[i][f] + xs[order[next]][f]) / 2;
        }
      }
    }
    if (bestFeature < 0) return { leaf: true, value: mean };
    const left = new Uint8Array(member.length), right = new Uint8Array(member.length);
    let leftCount = 0;
    for (let i = 0; i < member.length; i++) {
      if (!member[i]) continue;
      if (xs[i][bestFeature] <= bestThreshold) { left[i] = 1; leftCount++; } else right[i] = 1;
    }
    return {
      leaf: false, feature: bestFeature, threshold: bestThreshold,
      left: this.grow(xs, r, sorted, left, leftCount, depth + 1),
      right: this.grow(xs, r, sorted, right, count - leftCount, depth + 1),
    };
  }
}

function evaluate(node: Node, x: number[]): number {
  while (!node.leaf) node = x[node.feature] <= node.threshold ? node.left : node.right;
  return node.value;
}
