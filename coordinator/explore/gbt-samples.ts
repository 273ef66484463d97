// The training samples of the boosted trees, binned once: every feature's distinct values become
// bins in increasing order, so a node's best split is found from per-bin sums (a histogram)
// instead of a scan of its samples in each feature's order. Splits fall between distinct values
// present in the node, exactly as a scan's do; the cost model's features have few distinct values
// (log2 tile factors, one-hot choices), so histograms are short. Features constant over every
// sample cannot split and are left out; bins are stored sample by sample, as indices into one
// flat histogram, so building a node's histogram reads each sample's bins in a row.

export class GbtSamples {
  readonly count: number;
  /** Features that take more than one value, by their index in a row. */
  readonly active: Int32Array;
  /** Bin of sample i's k-th active feature at i * active.length + k: an index into the flat
   *  histogram, where active feature k's bins run from binOffsets[k] to binOffsets[k + 1]. */
  readonly bins: Int32Array;
  readonly binOffsets: Int32Array;
  /** The value of each bin. */
  readonly binValues: Float64Array;

  /** `rows[i][f]`: feature f of sample i; every row as long as the first. */
  constructor(rows: readonly ArrayLike<number>[]) {
    const n = rows.length;
    const features = n ? rows[0].length : 0;
    this.count = n;
    const column = new Float64Array(n);
    const active: number[] = [], distincts: Float64Array[] = [];
    for (let f = 0; f < features; f++) {
      for (let i = 0; i < n; i++) column[i] = rows[i][f];
      const distinct = Float64Array.from(new Set(column)).sort();
      if (distinct.length < 2) continue;
      active.push(f);
      distincts.push(distinct);
    }
    const width = active.length;
    this.active = Int32Array.from(active);
    this.binOffsets = new Int32Array(width + 1);
    for (let k = 0; k < width; k++) this.binOffsets[k + 1] = this.binOffsets[k] + distincts[k].length;
    this.binValues = new Float64Array(this.binOffsets[width]);
    distincts.forEach((d, k) => this.binValues.set(d, this.binOffsets[k]));
    this.bins = new Int32Array(width * n);
    for (let k = 0; k < width; k++) {
      const f = active[k], distinct = distincts[k], offset = this.binOffsets[k];
      for (let i = 0; i < n; i++) this.bins[i * width + k] = offset + lowerBound(distinct, rows[i][f]);
    }
  }

  get totalBins(): number { return this.binOffsets[this.active.length]; }
}

function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
