// A learned cost model steers the search ("model"): gradient-boosted trees on point features,
// retrained on every measurement each round. Each round the model ranks the unvisited neighbours
// met along model-guided walks from the best measured points and measures the best few; the
// round's exploration pick is the random point (of a few hundred) the model likes best.
// Failed measurements are data: they are learned as twice as slow as the slowest valid point,
// so the model steers away from their region.
//
// Two things real landscapes taught (bench/search.ts on yolo-C9, where 250 random points find
// a kernel 1.9x slower than the best known): a model trained on tens of points ranks far-away
// points poorly, so most of each round stays near the best points; and those points sit on
// plateaus the trees cannot tell apart, so the score is optimistic — the mean of a small
// bootstrap ensemble minus half its spread — and ties are broken at random, which moves the
// search off a plateau it has already covered instead of measuring its noise.
//
// Scaling with the budget: warm-up = clamp(round(0.1 x budget), min(8, budget), 50) random
// points; `batch` = clamp(round(budget / 100), 4, 8) points per round, one of them exploration
// (small rounds: the model learns from every few measurements; chosen on the sim landscape).
//
// Cost that stays bounded on long runs and big farms (issue 17): the models train on at most
// `trainingSamples` measurements (training-sample.ts) and again only once `retrainAfter` new
// results, or `retrainFraction` of all, have arrived; candidates are scored in typed-array
// blocks (ensemble-scorer.ts). The explorer does not wait for outstanding results: with results
// outstanding a round is as large as the caller's free capacity, or what it will hand out until
// the next fit (up to `maxRound`, walks and random pool growing with its square root); with none
// outstanding it is `batch`, the learning step.
//
// Transfer (issue 17): given a prior (other workloads' measurements adapted to this space, each
// timed relative to the best of its own workload), the models train on it beside the workload's
// own measurements, timed relative to their best so far; a prior sample weighs
// PRIOR_WEIGHT / (PRIOR_WEIGHT + own measurements), so the prior steers the first rounds and
// fades as the workload's own measurements come in. With a prior the warm-up is one `batch`.
import type { Point } from '../space.ts';
import { BatchExplorer, type ExplorerOptions, type PriorMeasurement } from './batch-explorer.ts';
import { EnsembleScorer } from './ensemble-scorer.ts';
import { Gbt } from './gbt.ts';
import { GbtSamples } from './gbt-samples.ts';
import { PointFeatures } from './point-features.ts';
import { trainingSample } from './training-sample.ts';

export interface ModelConstants {
  warmup: number;
  batch: number;
  /** Exploration picks per round: the best-scored of `randomPool` random points. */
  explore: number;
  /** Best measured points the model-guided walks start from. */
  starts: number;
  /** Steps of each model-guided walk (each step collects a full neighbourhood). */
  walkSteps: number;
  /** Random points scored per round. */
  randomPool: number;
  /** Cost models in the ensemble (one on every measurement, the rest on bootstrap resamples). */
  ensemble: number;
  /** Spreads of the ensemble subtracted from its mean prediction (optimism). */
  kappa: number;
  /** Most measurements the models are trained on (the best, the most recent, a spread of the rest). */
  trainingSamples: number;
  /** New results before the models are trained again... */
  retrainAfter: number;
  /** ...or this fraction of all measurements, whichever is more. */
  retrainFraction: number;
  /** Largest round, when results are outstanding and the caller asks for more. */
  maxRound: number;
}

export function modelConstants(budget: number): ModelConstants {
  return {
    warmup: Math.min(50, Math.max(Math.min(8, budget), Math.round(0.1 * budget))),
    batch: Math.min(8, Math.max(4, Math.round(budget / 100))),
    explore: 1,
    starts: 5,
    walkSteps: 4,
    randomPool: 300,
    ensemble: 5,
    kappa: 0.5,
    trainingSamples: 256,
    retrainAfter: 2 * Math.min(8, Math.max(4, Math.round(budget / 100))),
    retrainFraction: 0.04,
    maxRound: 256,
  };
}

interface Candidate { point: Point; score: number; tie: number }
const byScore = (a: Candidate, b: Candidate) => a.score - b.score || a.tie - b.tie;

/** How much slower than the slowest valid point a failure is learned as (log scale). */
const FAILURE_PENALTY = Math.log(2);

/** Own measurements at which a prior sample weighs half as much as at the start. */
const PRIOR_WEIGHT = 16;

export class ModelExplorer extends BatchExplorer {
  readonly name = 'model';
  readonly constants: ModelConstants;
  private readonly features: PointFeatures;
  /** Feature rows of measured points (the training samples). */
  private readonly rows = new Map<string, Float64Array>();
  private readonly models: Gbt[];
  private readonly scorer: EnsembleScorer;
  /** Measurements when the models were last fit; -1 before the first fit. */
  private fittedAt = -1;
  private fitCount = 0;
  private lastSampleSize = 0;
  private roundCount = 0;
  private lastRoundSize = 0;

  /** The prior's feature rows and relative log times (transfer; empty without a prior). */
  private readonly prior: { rows: Float64Array[]; ys: number[] } = { rows: [], ys: [] };

  constructor(options: ExplorerOptions & { constants?: Partial<ModelConstants> }) {
    super(options);
    this.features = new PointFeatures(this.space);
    this.readPrior(options.prior ?? []);
    const constants = { ...modelConstants(options.budget), ...options.constants };
    // A model trained on a prior ranks from the first measurements: a short warm-up is enough.
    if (this.prior.rows.length && options.constants?.warmup === undefined) constants.warmup = Math.min(constants.warmup, constants.batch);
    this.constants = constants;
    this.models = Array.from({ length: this.constants.ensemble }, () => new Gbt());
    this.scorer = new EnsembleScorer(this.features, this.models, this.constants.kappa);
  }

  /** How often the models were fit, and on how many measurements the last time (read-only). */
  get training(): { fits: number; samples: number } { return { fits: this.fitCount, samples: this.lastSampleSize }; }

  /** How many rounds the search has walked after its warm-up, and the size of the last (read-only). */
  get rounds(): { count: number; lastSize: number } { return { count: this.roundCount, lastSize: this.lastRoundSize }; }

  /** Warm-up points do not depend on results; after the warm-up, with results outstanding, the
   *  caller's free capacity is worth more than the few results the next round would wait for. */
  protected override proceedsWhileOutstanding(): boolean {
    if (this.measured.size + this.outstandingCount < this.constants.warmup) return true;
    return this.best !== null && this.call.outstandingAtStart > 0;
  }

  protected *search(): Generator<Point[], void, void> {
    const c = this.constants;
    if (!(yield* this.randomWarmup(c.warmup, c.batch))) return;
    for (;;) {
      this.trainIfDue();
      const size = this.roundSize();
      this.roundCount++;
      this.lastRoundSize = size;
      // Exploration picks grow with the round; walks and the random pool with its square root:
      // a large round (a farm's) draws on one model fit, and its cost per candidate must fall as
      // the farm grows, or the farm waits on the explorer.
      const scale = Math.ceil(size / c.batch), reach = Math.ceil(Math.sqrt(scale));
      const scorer = this.scorer;
      // Trees predict the same value for points that differ only in knobs no split looks at, so
      // ties are common; they are broken at random, not in sub-space order (which would spend the
      // rounds on the first knob's plateau).
      const pool = new Map<string, Candidate>();
      // Model-guided walks: from each of the best points, step to the neighbour the model likes
      // best (measured or not), collecting every unvisited neighbour on the way.
      for (const start of this.ranked(c.starts * reach)) {
        let point = start.point;
        for (let step = 0; step < c.walkSteps; step++) {
          const found: string[] = [];
          const unshuffled = this.space.neighbours(point, found);
          if (!unshuffled.length) break;
          // The same shuffle as of the points themselves, applied to points and keys alike.
          const order = this.rng.shuffle(unshuffled.map((_, k) => k));
          const neighbours = order.map((k) => unshuffled[k]), keys = order.map((k) => found[k]);
          scorer.ensure(neighbours, keys);
          let best = 0, bestScore = Infinity;
          for (let k = 0; k < neighbours.length; k++) {
            const key = keys[k], s = scorer.score(key);
            if (!pool.has(key) && !this.proposed.has(key)) pool.set(key, { point: neighbours[k], score: s, tie: this.rng.float() });
            if (k === 0 || s < bestScore) { best = k; bestScore = s; }
          }
          point = neighbours[best];
        }
      }
      // Most of each round comes from the neighbourhoods of the best points: on real landscapes
      // a model trained on tens of points ranks far-away random points poorly (its top picks
      // among them measured at about the 30th percentile on yolo-C9), near ones much better.
      const explore = Math.min(size, c.explore * scale);
      const batch = [...pool.values()].sort(byScore).slice(0, size - explore).map((x) => x.point);
      // Exploration: the random points (none of them in the pool) the model likes best. They are
      // drawn without the space's validity filter, the costliest part of a random point, and
      // only the picks are checked, best first.
      const randoms = this.randomBatch(c.randomPool * reach, pool, false);
      const randomKeys = randoms.map((p) => this.space.pointKey(p));
      scorer.ensure(randoms, randomKeys);
      const ranked = randoms.map((p, k): Candidate => ({ point: p, score: scorer.score(randomKeys[k]), tie: this.rng.float() })).sort(byScore);
      for (const r of ranked) {
        if (batch.length >= size) break;
        if (this.space.isAccepted(r.point)) batch.push(r.point);
      }
      if (!batch.length) return;
      yield batch;
    }
  }

  /** A round is the learning step `batch` when nothing is outstanding (the caller waits on this
   *  round alone); else the caller's free capacity, or, when more, what a farm hands out until the
   *  models are next fit (one result back, one candidate out): those rounds would all rank with
   *  the same models, so one round does the walking for them. */
  private roundSize(): number {
    const c = this.constants;
    if (!this.call.outstandingAtStart) return c.batch;
    const untilRefit = this.fittedAt < 0 ? 0 : this.fittedAt + this.refitGap(this.fittedAt) - this.measured.size;
    return Math.min(c.maxRound, Math.max(c.batch, this.call.wanted, untilRefit));
  }

  /** New results after a fit on `n` measurements before the models are fit again. */
  private refitGap(n: number): number {
    const c = this.constants;
    return Math.max(1, c.retrainAfter, Math.round(c.retrainFraction * n));
  }

  private trainIfDue(): void {
    const n = this.measured.size;
    if (this.fittedAt >= 0 && n - this.fittedAt < this.refitGap(n)) return;
    this.train();
    this.fittedAt = n;
  }

  /** Fit the cost models on the training sample (log seconds, failures penalised): one on all of
   *  it, the others on bootstrap resamples (as whole-number weights). */
  private train(): void {
    const sample = trainingSample([...this.measured.values()], this.ranked(), this.constants.trainingSamples);
    const own = sample.length, prior = this.prior.rows.length;
    let fastest = Infinity, slowest = -Infinity;
    for (const m of sample) {
      if (m.seconds === null) continue;
      fastest = Math.min(fastest, Math.log(m.seconds));
      slowest = Math.max(slowest, Math.log(m.seconds));
    }
    const failed = slowest + FAILURE_PENALTY;
    // With a prior, own times go on its scale: relative to the best so far.
    const origin = prior ? fastest : 0;
    const ys = new Float64Array(own + prior);
    sample.forEach((m, k) => { ys[k] = (m.seconds === null ? failed : Math.log(m.seconds)) - origin; });
    ys.set(this.prior.ys, own);
    const samples = new GbtSamples([...sample.map((m) => this.rowOf(m.key, m.point)), ...this.prior.rows]);
    const weights = new Float64Array(own + prior).fill(1, 0, own).fill(PRIOR_WEIGHT / (PRIOR_WEIGHT + own), own);
    this.models[0].fitSamples(samples, ys, prior ? weights : undefined);
    for (let b = 1; b < this.models.length; b++) {
      weights.fill(0, 0, own);
      for (let k = 0; k < own; k++) weights[this.rng.int(own)]++;
      this.models[b].fitSamples(samples, ys, weights);
    }
    this.scorer.reset();
    this.fitCount++;
    this.lastSampleSize = sample.length;
  }

  /** The prior's points in this space (configs that are not points of it are left out). */
  private readPrior(prior: readonly PriorMeasurement[]): void {
    for (const m of prior) {
      const point = this.space.fromConfig(m.config);
      if (!point || !Number.isFinite(m.relativeLogSeconds)) continue;
      this.prior.rows.push(this.rowOf(this.space.pointKey(point), point));
      this.prior.ys.push(m.relativeLogSeconds);
    }
  }

  /** How many prior measurements the models train on (read-only). */
  get priorSize(): number { return this.prior.rows.length; }

  private rowOf(key: string, point: Point): Float64Array {
    let row = this.rows.get(key);
    if (!row) {
      row = new Float64Array(this.features.length);
      this.features.write(point, row, 0);
      this.rows.set(key, row);
    }
    return row;
  }
}

