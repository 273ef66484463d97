// A learned cost model steers the search ("model"): gradient-boosted trees on point features,
// retrained on every measurement each round, rank a pool of candidates — the unvisited
// neighbours met along model-guided walks from the best measured points, plus many random
// points — and only the best few are measured, with one random pick per round kept for
// exploration. Failed measurements are data: they are learned as twice as slow as the slowest
// valid point, so the model steers away from their region.
//
// Scaling with the budget: warm-up = clamp(round(0.1 x budget), min(8, budget), 50) random
// points; `batch` = clamp(round(budget / 100), 4, 8) points per round, one of them random
// (small rounds: the model learns from every few measurements; chosen on the sim landscape).
import type { Point, Space } from '../space.ts';
import { BatchExplorer, type ExplorerOptions } from './batch-explorer.ts';
import { Gbt } from './gbt.ts';

export interface ModelConstants {
  warmup: number;
  batch: number;
  /** Random picks per round (exploration). */
  explore: number;
  /** Best measured points the model-guided walks start from. */
  starts: number;
  /** Steps of each model-guided walk (each step collects a full neighbourhood). */
  walkSteps: number;
  /** Random points scored per round. */
  randomPool: number;
}

export function modelConstants(budget: number): ModelConstants {
  return {
    warmup: Math.min(50, Math.max(Math.min(8, budget), Math.round(0.1 * budget))),
    batch: Math.min(8, Math.max(4, Math.round(budget / 100))),
    explore: 1,
    starts: 5,
    walkSteps: 4,
    randomPool: 300,
  };
}

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
      const model = this.train();
      const score = (p: Point) => model.predict(this.features(p));
      const pool = new Map<string, { point: Point; score: number }>();
      const consider = (p: Point) => {
        const key = this.space.pointKey(p);
        if (!pool.has(key) && !this.proposed.has(key)) pool.set(key, { point: p, score: score(p) });
      };
      // Model-guided walks: from each of the best points, step to the neighbour the model likes
      // best (measured or not), collecting every unvisited neighbour on the way.
      for (const start of this.ranked().slice(0, c.starts)) {
        let point = start.point;
        for (let step = 0; step < c.walkSteps; step++) {
          const neighbours = this.space.neighbours(point);
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
      const randoms = this.randomBatch(c.randomPool, pool.keys());
      randoms.forEach(consider);
      const ranked = [...pool.values()].sort((a, b) => a.score - b.score);
      const batch = ranked.slice(0, c.batch - c.explore).map((x) => x.point);
      const chosen = new Set(batch.map((p) => this.space.pointKey(p)));
      const others = randoms.filter((p) => !chosen.has(this.space.pointKey(p)));
      for (let e = 0; e < c.explore && others.length; e++) batch.push(others.splice(this.rng.int(others.length), 1)[0]);
      if (!batch.length) return;
      yield batch;
    }
  }

  /** Fit the cost model on every measurement so far: log seconds, failures penalised. */
  private train(): Gbt {
    const all = [...this.measured.values()].sort((a, b) => a.order - b.order);
    const valid = all.filter((m) => m.seconds !== null).map((m) => Math.log(m.seconds!));
    const failed = Math.max(...valid) + FAILURE_PENALTY;
    return new Gbt().fit(all.map((m) => this.features(m.point)), all.map((m) => (m.seconds === null ? failed : Math.log(m.seconds))));
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
