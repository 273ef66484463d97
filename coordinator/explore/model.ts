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
import type { Point, Space } from '../space.ts';
import { BatchExplorer, type ExplorerOptions } from './batch-explorer.ts';
import { Gbt } from './gbt.ts';

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
  };
}

interface Candidate { point: Point; score: number; tie: number }
const byScore = (a: Candidate, b: Candidate) => a.score - b.score || a.tie - b.tie;

/** How much slower than the slowest valid point a failure is learned as (log scale). */
const FAILURE_PENALTY = Math.log(2);

export class ModelExplorer extends BatchExplorer {
  readonly name = 'model';
  readonly constants: ModelConstants;
  private readonly featureCache = new Map<string, number[]>();

  constructor(options: ExplorerOptions & { constants?: Partial<ModelConstants> }) {
    super(options);
    this.constants = { ...modelConstants(options.budget), ...options.constants };
  }

  protected *search(): Generator<Point[], void, void> {
    const c = this.constants;
    if (!(yield* this.randomWarmup(c.warmup, c.batch))) return;
    for (;;) {
      const models = this.train();
      // Optimistic score: mean minus kappa spreads of the bootstrap ensemble, so a plateau the
      // measurements already cover (small spread) loses to a region the models disagree on.
      const scores = new Map<string, number>(); // walks meet the same neighbours again
      const score = (p: Point) => {
        const key = this.space.pointKey(p);
        let s = scores.get(key);
        if (s === undefined) {
          const ys = models.map((m) => m.predict(this.features(p)));
          const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
          const spread = Math.sqrt(ys.reduce((a, y) => a + (y - mean) ** 2, 0) / ys.length);
          s = mean - c.kappa * spread;
          scores.set(key, s);
        }
        return s;
      };
      // Trees predict the same value for points that differ only in knobs no split looks at, so
      // ties are common; they are broken at random, not in sub-space order (which would spend the
      // rounds on the first knob's plateau).
      const pool = new Map<string, Candidate>();
      const consider = (p: Point) => {
        const key = this.space.pointKey(p);
        if (!pool.has(key) && !this.proposed.has(key)) pool.set(key, { point: p, score: score(p), tie: this.rng.float() });
      };
      // Model-guided walks: from each of the best points, step to the neighbour the model likes
      // best (measured or not), collecting every unvisited neighbour on the way.
      for (const start of this.ranked().slice(0, c.starts)) {
        let point = start.point;
        for (let step = 0; step < c.walkSteps; step++) {
          const neighbours = this.rng.shuffle(this.space.neighbours(point));
          if (!neighbours.length) break;
          neighbours.forEach(consider);
          let best = neighbours[0], bestScore = score(best);
          for (const n of neighbours.slice(1)) {
            const s = score(n);
            if (s < bestScore) { best = n; bestScore = s; }
          }
          point = best;
        }
      }
      // Most of each round comes from the neighbourhoods of the best points: on real landscapes
      // a model trained on tens of points ranks far-away random points poorly (its top picks
      // among them measured at about the 30th percentile on yolo-C9), near ones much better.
      const batch = [...pool.values()].sort(byScore).slice(0, c.batch - c.explore).map((x) => x.point);
      // Exploration: the random points (none of them in the pool) the model likes best.
      const randoms = this.randomBatch(c.randomPool, [...pool.keys()])
        .map((p): Candidate => ({ point: p, score: score(p), tie: this.rng.float() })).sort(byScore);
      for (const r of randoms.slice(0, c.batch - batch.length)) batch.push(r.point);
      if (!batch.length) return;
      yield batch;
    }
  }

  /** Fit the cost models on every measurement so far (log seconds, failures penalised): one on
   *  all of them, the others on bootstrap resamples. */
  private train(): Gbt[] {
    const all = [...this.measured.values()].sort((a, b) => a.order - b.order);
    const valid = all.filter((m) => m.seconds !== null).map((m) => Math.log(m.seconds!));
    const failed = Math.max(...valid) + FAILURE_PENALTY;
    const xs = all.map((m) => this.features(m.point));
    const ys = all.map((m) => (m.seconds === null ? failed : Math.log(m.seconds)));
    const models = [new Gbt().fit(xs, ys)];
    for (let b = 1; b < this.constants.ensemble; b++) {
      const pick = xs.map(() => this.rng.int(xs.length));
      models.push(new Gbt().fit(pick.map((i) => xs[i]), pick.map((i) => ys[i])));
    }
    return models;
  }

  private features(point: Point): number[] {
    const key = this.space.pointKey(point);
    let f = this.featureCache.get(key);
    if (!f) {
      f = [...this.space.features(point), ...levelFeatures(this.space, point)];
      this.featureCache.set(key, f);
    }
    return f;
  }
}

/** Per split level, log2 of the product of that level's factors over spatial (and over reduce)
 *  axes, normalised: tile sizes are products across axes, which single factors do not show. */
export function levelFeatures(space: Space, point: Point): number[] {
  const spatial: number[] = [], reduce: number[] = [];
  let spatialScale = 0, reduceScale = 0;
  space.subspaces.forEach((sub, s) => {
    const axis = sub.knob.axis;
    if (sub.knob.kind !== 'split' || !axis) return;
    const factors = sub.knob.entities[point[s]] as number[];
    const sums = axis.reduce ? reduce : spatial;
    factors.forEach((f, level) => { sums[level] = (sums[level] ?? 0) + Math.log2(f); });
    if (axis.reduce) reduceScale += Math.log2(Math.max(2, axis.extent));
    else spatialScale += Math.log2(Math.max(2, axis.extent));
  });
  return [...spatial.map((x) => x / Math.max(1, spatialScale)), ...reduce.map((x) => x / Math.max(1, reduceScale))];
}
