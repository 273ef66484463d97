// FlexTensor's default search ("searching"), with its constants:
//   warm-up rounds of 20 random points, all valid ones into a heap; if none is valid, more rounds
//   with the run timeout doubled (up to 8x, i.e. 5 s -> 40 s) up to 20 retries;
//   later valid points enter the heap with probability exp(-s (t - top) / top), top = the
//   heap's best, s = 0.5; each trial starts from a random heap element accepted with that same
//   probability (else the heap's best), measures every unvisited neighbour plus `parallel` fresh random
//   points, and retires the heap's best when no neighbour beats it; every max(3, ceil(trials / 20))
//   trials the retired points return and the top 10 are re-measured; it stops after `stop`
//   empty trials or `stop` trials without a new best.
//
// Scaling with the budget. The original spends 400 warm-up points (20 x 20) and 50 trials of
// roughly 40 points each, about 2,400 measurements, of which the warm-up is ~17%. Here (the
// fractions were chosen on the sim landscape, bench/search.ts, at budgets 50-200):
//   warm-up  = clamp(round(0.2 x budget), min(8, budget), 400)    (rounds of up to 20)
//   parallel = clamp(round(budget / 50), 1, 8)                    (8 from a budget of 400 up)
//   trials   = what the budget leaves after the warm-up, at (neighbours + parallel) per trial;
//              the period max(3, ceil(trials / 20)) is computed from that estimate (3 at the
//              original 50 trials; never 1, so a retired point stays out for a while)
//   walk     = every unvisited neighbour while the budget pays for at least 8 full walks after the
//              warm-up (the original pays for ~50); below that, a random sample of
//              max(2 x parallel, budget left / 8 - parallel) neighbours per trial, so a budget of
//              100 still makes several moves instead of one
//   sharpness s = 0.5 x max(1, 1000 / budget)                     (10 at 50, 5 at 100, 2.5 at 200)
//              with ~8 trials instead of ~50, a start spent on a point twice as slow as the best
//              is a large share of the walk (at s = 0.5 that start is accepted 61% of the time,
//              at 5 under 1%); on sim at 100 it raised flextensor's gain over random from
//              1.29x to 1.38x (yolo-C9) and 1.50x to 1.74x (yolo-C4), 61 seeds
//   stop = 15 trials and the 20 retries are kept (they count trials, not measurements).
// Failed points never enter the heap; they only count as visited.
import type { Point } from '../space.ts';
import { BatchExplorer, type ExplorerOptions, type Measured } from './batch-explorer.ts';

export interface FlexTensorConstants {
  warmup: number;
  warmupRound: number;
  retries: number;
  parallel: number;
  stop: number;
  /** The walk measures a random sample of the neighbourhood when the budget left after the
   *  warm-up would not pay for this many full walks (the original pays for ~50). */
  minTrials: number;
  remeasureTop: number;
  maxTimeoutMultiplier: number;
  /** s in the annealing's exp(-s (t - best) / best): FlexTensor's 0.5, sharper at small budgets. */
  sharpness: number;
}

export function flexTensorConstants(budget: number): FlexTensorConstants {
  return {
    warmup: Math.min(400, Math.max(Math.min(8, budget), Math.round(0.2 * budget))),
    warmupRound: 20,
    retries: 20,
    parallel: Math.min(8, Math.max(1, Math.round(budget / 50))),
    stop: 15,
    minTrials: 8,
    remeasureTop: 10,
    maxTimeoutMultiplier: 8,
    sharpness: 0.5 * Math.max(1, 1000 / budget),
  };
}

/** exp(-s (t - best) / best): 1 for the best; at FlexTensor's s = 0.5, ~0.6 for a point twice as slow. */
export function acceptance(seconds: number, best: number, sharpness = 0.5): number {
  return Math.exp((-sharpness * (seconds - best)) / best);
}

export class FlexTensorExplorer extends BatchExplorer {
  readonly name = 'flextensor';
  readonly constants: FlexTensorConstants;
  /** Keys of heap members (valid points), ordered by their latest time when read. */
  private readonly heap = new Set<string>();
  private readonly retired = new Set<string>();

  constructor(options: ExplorerOptions & { constants?: Partial<FlexTensorConstants> }) {
    super(options);
    this.constants = { ...flexTensorConstants(options.budget), ...options.constants };
  }

  protected *search(): Generator<Point[], void, void> {
    const c = this.constants;
    // History and warm-up points all enter the heap (as in the original); walk points are filtered.
    for (const m of [...this.measured.values()].sort((a, b) => a.order - b.order)) this.offer(m, false);

    // Warm-up: what the history already holds counts towards it.
    let left = c.warmup - this.measured.size;
    while (left > 0) {
      const batch = this.randomBatch(Math.min(c.warmupRound, left));
      if (!batch.length) return;
      yield batch;
      this.absorb(batch, false);
      left -= batch.length;
    }
    for (let retry = 0; !this.heap.size && retry < c.retries; retry++) {
      if (this.sawTimeouts()) this.timeoutFactor = Math.min(c.maxTimeoutMultiplier, this.timeoutFactor * 2);
      const batch = this.randomBatch(c.warmupRound);
      if (!batch.length) break;
      yield batch;
      this.absorb(batch, false);
    }
    if (!this.heap.size) { this.giveUp(); return; }

    const walkBudget = Math.max(0, this.budget - this.measured.size);
    const walkSize = Math.min(this.averageNeighbours(), Math.max(2 * c.parallel, Math.ceil(walkBudget / c.minTrials) - c.parallel));
    const trials = Math.max(1, Math.ceil(walkBudget / (walkSize + c.parallel)));
    // Never 1: points retired in one trial must stay out of the next one.
    const period = Math.max(3, Math.ceil(trials / 20));
    let emptyTrials = 0, sinceImproved = 0;
    for (let trial = 1; ; trial++) {
      if (trial % period === 0) {
        for (const key of this.retired) this.heap.add(key);
        this.retired.clear();
        this.requestRemeasure(this.heapRanked().slice(0, c.remeasureTop).map((m) => m.point));
      }
      const bestBefore = this.best!.seconds!;
      const heapBest = this.heapRanked()[0]?.seconds ?? bestBefore;
      const start = this.chooseStart();
      const unvisited = start ? this.space.neighbours(start.point).filter((p) => !this.isProposed(p)) : [];
      const neighbours = unvisited.length > walkSize ? this.rng.shuffle(unvisited).slice(0, walkSize) : unvisited;
      const fresh = this.randomBatch(c.parallel, neighbours.map((p) => this.space.pointKey(p)));
      const batch = [...neighbours, ...fresh];
      if (!batch.length) {
        if (++emptyTrials >= c.stop) { this.finish(`flextensor: ${c.stop} trials in a row found nothing new to measure`); return; }
        if (start) this.retire(start.key);
        continue;
      }
      emptyTrials = 0;
      yield batch;
      this.absorb(batch, true);
      const neighbourBeat = neighbours.some((p) => {
        const t = this.measured.get(this.space.pointKey(p))?.seconds;
        return t != null && t < heapBest;
      });
      if (!neighbourBeat) {
        const top = this.heapRanked()[0];
        if (top) this.retire(top.key);
      }
      sinceImproved = this.best!.seconds! < bestBefore ? 0 : sinceImproved + 1;
      if (sinceImproved >= c.stop) { this.finish(`flextensor: no better schedule in ${c.stop} trials`); return; }
    }
  }

  /** Heap members, fastest first (latest measurement of each). */
  private heapRanked(): Measured[] {
    const out: Measured[] = [];
    for (const key of this.heap) {
      const m = this.measured.get(key);
      if (m && m.seconds !== null) out.push(m);
    }
    return out.sort((a, b) => a.seconds! - b.seconds! || a.order - b.order);
  }

  /** A random heap element accepted with the annealing probability against the heap's best,
   *  else the heap's best; when everything is retired, the best measured point. */
  private chooseStart(): Measured | null {
    const ranked = this.heapRanked();
    if (!ranked.length) return this.best;
    const pick = ranked[this.rng.int(ranked.length)];
    return this.rng.float() < acceptance(pick.seconds!, ranked[0].seconds!, this.constants.sharpness) ? pick : ranked[0];
  }

  private retire(key: string): void {
    if (this.heap.delete(key)) this.retired.add(key);
  }

  private absorb(points: Point[], anneal: boolean): void {
    for (const p of points) {
      const m = this.measured.get(this.space.pointKey(p));
      if (m) this.offer(m, anneal);
    }
  }

  /** Into the heap: unconditionally, or with the annealing probability against the heap's best.
   *  Failures never enter. */
  private offer(m: Measured, anneal: boolean): void {
    if (m.seconds === null || this.heap.has(m.key) || this.retired.has(m.key)) return;
    const top = this.heapRanked()[0]?.seconds ?? undefined;
    if (!anneal || top === undefined || m.seconds <= top || this.rng.float() < acceptance(m.seconds, top, this.constants.sharpness)) this.heap.add(m.key);
  }

  private averageNeighbours(): number {
    const sample = this.best ? this.space.neighbours(this.best.point).length : 0;
    return Math.max(1, sample);
  }
}
