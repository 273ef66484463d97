// The `model` explorer's optimistic score of candidate points under its ensemble of cost models:
// the mean prediction minus `kappa` spreads, so a plateau the measurements already cover (small
// spread) loses to a region the models disagree on. Candidates are scored in blocks: features
// into one reused typed-array matrix, each model over all rows at once, nothing allocated per
// candidate; scores are kept until the models are refit (walks meet the same points again).
import type { Point } from '../space.ts';
import type { Gbt } from './gbt.ts';
import type { PointFeatures } from './point-features.ts';

/** Scores kept before the cache is emptied (a long run between two fits). */
const MAX_CACHED = 200_000;

export class EnsembleScorer {
  private readonly scores = new Map<string, number>();
  private rows = new Float64Array(0);
  private predictions: Float64Array[] = [];
  private pending: Point[] = [];
  private pendingKeys: string[] = [];

  constructor(private readonly features: PointFeatures, private readonly models: readonly Gbt[], private readonly kappa: number) {}

  /** The models were refit: every score is stale. */
  reset(): void { this.scores.clear(); }

  /** Make sure every one of `points` (keyed by `keys`) has a score. */
  ensure(points: readonly Point[], keys: readonly string[]): void {
    this.pending.length = 0;
    this.pendingKeys.length = 0;
    for (let k = 0; k < points.length; k++) {
      if (this.scores.has(keys[k])) continue;
      this.pending.push(points[k]);
      this.pendingKeys.push(keys[k]);
    }
    const count = this.pending.length;
    if (!count) return;
    if (this.scores.size + count > MAX_CACHED) this.scores.clear();
    const width = this.features.length;
    if (this.rows.length < count * width) {
      const capacity = Math.max(count, 2 * this.rows.length / Math.max(1, width));
      this.rows = new Float64Array(capacity * width);
      this.predictions = this.models.map(() => new Float64Array(capacity));
    }
    for (let p = 0; p < count; p++) this.features.write(this.pending[p], this.rows, p * width);
    this.models.forEach((m, i) => m.predictRows(this.rows, width, count, this.predictions[i]));
    const n = this.models.length;
    for (let p = 0; p < count; p++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += this.predictions[i][p];
      const mean = sum / n;
      let squares = 0;
      for (let i = 0; i < n; i++) squares += (this.predictions[i][p] - mean) ** 2;
      this.scores.set(this.pendingKeys[p], mean - this.kappa * Math.sqrt(squares / n));
    }
  }

  /** The score of a point `ensure` has seen. */
  score(key: string): number {
    return this.scores.get(key)!;
  }
}
