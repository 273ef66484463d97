// FlexTensor's Q-learning walkers ("q"): one walker per sub-space, each with an online and a
// target MLP (the point's features in, width 64, depth 4, one Q value per direction out, ReLU).
// After a random warm-up, every trial pops the top `parallel` points of the heap (as in
// flextensor) and each walker takes one ε-greedy step from each of them; new points are
// measured and enter the heap with the annealing probability; every transition goes to the walker's
// replay; periodically each walker trains 20 epochs over at most 1,000 shuffled transitions
// (minibatch 32, MSE against r + 0.9 max Q_target(s')), then copies online → target.
//
// Fixes over the original (FLEXTENSOR.md): the state is the log2-normalised feature vector,
// not raw factors; the reward is relative, tanh(5 (t_from - t_to) / t_from), in [-0.5, 1], with
// failures at -0.5 so walkers learn to avoid them (the original gave them 0); the early stop is
// relative (best improved by less than 0.5% for `stop` trials, instead of 0.02 ms); the replay
// is a bounded FIFO of 1,000 transitions per walker; ε-greedy chooses only among directions
// that exist from the point (the original wasted the step on a move that does not exist: 18-54%
// of the steps on the sim yolo-C9 space, by seed) and prefers those onto unmeasured points;
// a step onto an already measured point walks on from it (up to 3 hops) instead of wasting the
// step; a trial with nothing new to measure re-warms with `parallel` random points, as the
// original does.
//
// Scaling with the budget (the original assumes hundreds of trials):
//   warm-up  = clamp(round(0.2 x budget), min(8, budget), 200)    (original 10 x 20)
//   parallel = clamp(round(budget / 50), 1, 8)                    (8 from a budget of 400 up)
//   ε = max(0.8 exp(-k trial), 0.1) with k = ln 8 / (0.6 x expected trials), so ε reaches 0.1 at
//   60% of the trials the budget allows (the original's k = 0.01 reaches it after ~208 trials);
//   training every ceil(expected trials / 5) trials, as the original's ceil(trials / 5).
import type { Point, Space } from '../space.ts';
import { BatchExplorer, type ExplorerOptions, type Measured } from './batch-explorer.ts';
import { acceptance } from './flextensor.ts';
import { Mlp } from './mlp.ts';
import type { Rng } from './rng.ts';

export interface QConstants {
  warmup: number;
  parallel: number;
  stop: number;
  hidden: number;
  depth: number;
  gamma: number;
  epochs: number;
  minibatch: number;
  replay: number;
  maxHops: number;
  /** Relative improvement of the best below which a trial counts as "no improvement". */
  minImprovement: number;
  /** ε decay per trial; absent: scaled to the trials the budget allows (see above). */
  decay?: number;
}

export function qConstants(budget: number): QConstants {
  return {
    warmup: Math.min(200, Math.max(Math.min(8, budget), Math.round(0.2 * budget))),
    parallel: Math.min(8, Math.max(1, Math.round(budget / 50))),
    stop: 15, hidden: 64, depth: 4, gamma: 0.9, epochs: 20, minibatch: 32, replay: 1000, maxHops: 3,
    minImprovement: 0.005,
  };
}

interface Transition { from: number[]; action: number; to: number[]; fromKey: string; toKey: string; reward?: number }

/** One walker: the directions of one sub-space, its two networks and its replay. */
class Walker {
  readonly online: Mlp;
  readonly target: Mlp;
  readonly replay: Transition[] = [];

  constructor(readonly subspace: number, readonly directions: number, inputs: number, c: QConstants, rng: Rng) {
    const sizes = [inputs, ...Array.from({ length: c.depth - 1 }, () => c.hidden), directions];
    this.online = new Mlp(sizes, rng);
    this.target = new Mlp(sizes, rng);
    this.target.copyFrom(this.online);
  }

  /** ε-greedy over the directions that exist from this point (`allowed`, non-empty). */
  choose(state: number[], allowed: number[], epsilon: number, rng: Rng): number {
    if (rng.float() < epsilon) return rng.pick(allowed);
    const q = this.online.predict(state);
    let best = allowed[0];
    for (const a of allowed) if (q[a] > q[best]) best = a;
    return best;
  }

  remember(t: Transition, limit: number): void {
    this.replay.push(t);
    if (this.replay.length > limit) this.replay.splice(0, this.replay.length - limit);
  }

  /** Returns the mean minibatch loss of the last epoch (null when there was nothing to train on). */
  train(c: QConstants, rng: Rng): number | null {
    const ready = this.replay.filter((t) => t.reward !== undefined);
    if (ready.length < 2) return null;
    let lossSum = 0, batches = 0;
    // The target network does not change during training: its targets are computed once.
    const targets = ready.map((t) => t.reward! + c.gamma * Math.max(...this.target.predict(t.to)));
    for (let epoch = 0; epoch < c.epochs; epoch++) {
      const order = rng.shuffle(ready.map((_, i) => i));
      lossSum = 0; batches = 0;
      for (let start = 0; start < order.length; start += c.minibatch) {
        const batch = order.slice(start, start + c.minibatch);
        lossSum += this.online.trainOutputs(batch.map((i) => ready[i].from), batch.map((i) => ready[i].action), batch.map((i) => targets[i]));
        batches++;
      }
    }
    this.target.copyFrom(this.online);
    return batches ? lossSum / batches : null;
  }
}

/** The directions a walker of sub-space `subspace` may take from `point`: only moves that exist
 *  (one that does not would waste the step), and among them those onto points not yet taken;
 *  when every target is taken, all of them (the walk goes on through a measured point). */
export function stepOptions(space: Space, point: Point, subspace: number, taken: (p: Point) => boolean): { targets: Map<number, Point>; allowed: number[] } {
  const targets = new Map<number, Point>();
  space.subspaces[subspace].directions.forEach((_, d) => {
    const to = space.move(point, subspace, d);
    if (to) targets.set(d, to);
  });
  const existing = [...targets.keys()];
  const fresh = existing.filter((d) => !taken(targets.get(d)!));
  return { targets, allowed: fresh.length ? fresh : existing };
}

export class QExplorer extends BatchExplorer {
  readonly name = 'q';
  readonly constants: QConstants;
  private readonly walkers: Walker[];
  private currentEpsilon: number | null = null;
  private lastLoss: number | null = null;

  /** ε of the latest trial; null during the random warm-up (read-only, for metrics). */
  get epsilon(): number | null { return this.currentEpsilon; }
  /** Mean training loss of the walkers at the latest training; null before the first (read-only, for metrics). */
  get loss(): number | null { return this.lastLoss; }

  constructor(options: ExplorerOptions & { constants?: Partial<QConstants> }) {
    super(options);
    this.constants = { ...qConstants(options.budget), ...options.constants };
    const netRng = this.rng.fork();
    this.walkers = this.space.subspaces
      .map((sub, s) => ({ sub, s }))
      .filter(({ sub }) => sub.size > 1 && sub.directions.length > 0)
      .map(({ sub, s }) => new Walker(s, sub.directions.length, this.space.featureLength, this.constants, netRng));
  }

  protected *search(): Generator<Point[], void, void> {
    const c = this.constants;
    if (!(yield* this.randomWarmup(c.warmup, 20))) return;

    // The heap (as in flextensor): warm-up points all enter; walk results with the annealing
    // probability. Each trial's starts are popped from it, so the next trial starts from the
    // best points not yet walked from; popped points return at each training.
    const heap = new Set<string>();
    const retired: string[] = [];
    const heapRanked = () => [...heap].map((k) => this.measured.get(k)!).filter((m) => m.seconds !== null)
      .sort((a, b) => a.seconds! - b.seconds! || a.order - b.order);
    for (const m of this.ranked()) heap.add(m.key);

    const perTrial = Math.max(1, this.walkers.length * c.parallel * 0.7);
    const trials = Math.max(1, Math.ceil(Math.max(0, this.budget - this.measured.size) / perTrial));
    const decay = c.decay ?? Math.log(8) / (0.6 * trials);
    const trainEvery = Math.ceil(trials / 5);
    let sinceImproved = 0, emptyTrials = 0;
    for (let trial = 0; ; trial++) {
      const epsilon = Math.max(0.8 * Math.exp(-decay * trial), 0.1);
      this.currentEpsilon = epsilon;
      const bestBefore = this.best!.seconds!;
      const starts = heapRanked().slice(0, c.parallel);
      for (const s of starts) { heap.delete(s.key); retired.push(s.key); }
      const pending: Transition[] = [];
      const batch: Point[] = [];
      const queued = new Set<string>();
      for (const start of starts) {
        for (const walker of this.walkers) {
          const found = this.walk(walker, start, epsilon, pending);
          if (found && !queued.has(this.space.pointKey(found))) {
            queued.add(this.space.pointKey(found));
            batch.push(found);
          }
        }
      }
      if (!batch.length) {
        // Nothing new from here: re-warm with `parallel` random points, as the original does.
        this.rewardAll(pending);
        if (++emptyTrials >= c.stop) { this.finish(`q: ${c.stop} trials in a row found nothing new to measure`); return; }
        const fresh = this.randomBatch(c.parallel);
        if (!fresh.length) return;
        yield fresh;
        for (const p of fresh) this.offerTo(heap, this.space.pointKey(p), heapRanked, false);
        continue;
      }
      emptyTrials = 0;
      yield batch;
      this.rewardAll(pending);
      for (const p of batch) this.offerTo(heap, this.space.pointKey(p), heapRanked, true);
      if ((trial + 1) % trainEvery === 0) {
        const losses = this.walkers.map((w) => w.train(c, this.rng)).filter((l): l is number => l !== null);
        if (losses.length) this.lastLoss = losses.reduce((a, b) => a + b, 0) / losses.length;
        for (const key of retired.splice(0)) heap.add(key);
      }
      const gain = (bestBefore - this.best!.seconds!) / bestBefore;
      sinceImproved = gain > c.minImprovement ? 0 : sinceImproved + 1;
      if (sinceImproved >= c.stop) { this.finish(`q: the best improved by less than ${c.minImprovement * 100}% in ${c.stop} trials`); return; }
    }
  }

  /** Into the heap: valid points only; with `anneal`, with probability exp(-0.5 (t - top) / top). */
  private offerTo(heap: Set<string>, key: string, heapRanked: () => Measured[], anneal: boolean): void {
    const m = this.measured.get(key);
    if (!m || m.seconds === null) return;
    const top = heapRanked()[0]?.seconds ?? undefined;
    if (!anneal || top === undefined || m.seconds <= top || this.rng.float() < acceptance(m.seconds, top)) heap.add(key);
  }

  /** ε-greedy steps of one walker from `start`, through measured points, to the first new one. */
  private walk(walker: Walker, start: Measured, epsilon: number, pending: Transition[]): Point | null {
    let point = start.point;
    for (let hop = 0; hop < this.constants.maxHops; hop++) {
      const state = this.space.features(point);
      const { targets, allowed } = stepOptions(this.space, point, walker.subspace, (p) => this.isProposed(p));
      if (!allowed.length) return null;
      const action = walker.choose(state, allowed, epsilon, this.rng);
      const next = targets.get(action)!;
      const fromKey = this.space.pointKey(point);
      const t: Transition = { from: state, action, to: this.space.features(next), fromKey, toKey: this.space.pointKey(next) };
      walker.remember(t, this.constants.replay);
      pending.push(t);
      if (!this.isProposed(next)) return next;
      const known = this.measured.get(t.toKey);
      if (!known || known.seconds === null) return null; // onto a failure: stop this walk
      point = next;
    }
    return null;
  }

  /** Relative reward of every transition whose both ends are now measured. */
  private rewardAll(pending: Transition[]): void {
    for (const t of pending) {
      const from = this.measured.get(t.fromKey)?.seconds;
      const to = this.measured.get(t.toKey);
      if (from == null || !to) continue;
      t.reward = to.seconds === null ? -0.5 : Math.max(-0.5, Math.tanh((5 * (from - to.seconds)) / from));
    }
  }
}
