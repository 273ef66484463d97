// The common machinery of the search methods: a method is written as a generator that yields
// batches of points to measure and reads their results back from `measured` when resumed.
// This base turns that into next(n)/update(results), never proposes a point twice (history
// included), records failures as data, and gives up with a clear message when nothing is valid.
import type { MeasureResult } from '../../contracts/result.ts';
import type { Config } from '../../tensor/templates/template.ts';
import type { Point, Space } from '../space.ts';
import type { Explorer } from './explorer.ts';
import { defaultGiveUpAfter, noValidConfigMessage } from './failures.ts';
import { RankedMeasurements } from './ranked-measurements.ts';
import { Rng } from './rng.ts';

export interface ExplorerOptions {
  space: Space;
  seed: number;
  /** Measurements the caller intends to spend; methods scale their constants with it. */
  budget: number;
  /** Results already in the tuning log (resume): never proposed again, and they seed the search. */
  history?: MeasureResult[];
  /** Measurements without a single valid one before giving up (default max(20, budget / 2)). */
  giveUpAfter?: number;
  /** Measurements of other workloads, adapted to this space (coordinator/transfer-prior.ts): a
   *  learned method trains on them until its own measurements outweigh them; others ignore them. */
  prior?: readonly PriorMeasurement[];
}

/** One measurement of another workload (a neighbouring shape, another device), as a learned
 *  cost model can use it for this one: its config adapted to this space, and its time relative
 *  to the best of its own workload (so that workloads of different sizes share one scale). */
export interface PriorMeasurement {
  config: Config;
  /** log(seconds / the best seconds of its own workload): 0 for that best, above 0 for the rest. */
  relativeLogSeconds: number;
}

export interface Measured {
  point: Point;
  key: string;
  /** Median seconds; null when the measurement failed. */
  seconds: number | null;
  /** Order of arrival (0 = first), history first. */
  order: number;
}

/** Keys to leave out (a set or a map of them). */
export interface KeySet { has(key: string): boolean }

/** Search for an unvisited random point by rejection first, by enumeration on small spaces. */
const REJECTION_TRIES = 64;
const ENUMERABLE_POINTS = 200_000n;
/** Batches in a row that contain only already-proposed points before the method is stopped. */
const MAX_EMPTY_BATCHES = 1000;

export abstract class BatchExplorer implements Explorer {
  abstract readonly name: string;
  readonly space: Space;
  readonly budget: number;
  protected readonly rng: Rng;
  /** Every measured point by key (latest measurement wins). */
  protected readonly measured = new Map<string, Measured>();
  /** Points proposed or already in the history: never proposed again. */
  protected readonly proposed = new Set<string>();
  protected best: Measured | null = null;
  private readonly rankedValid = new RankedMeasurements<Measured>();
  private readonly results: MeasureResult[] = [];
  private readonly giveUpAfter: number;
  private queue: Point[] = [];
  private readonly outstanding = new Set<string>();
  private steps?: Generator<Point[], void, void>;
  private remeasureQueue: Point[] = [];
  private finished = false;
  private reason?: string;
  private gaveUp = false;
  protected timeoutFactor = 1;
  /** False for methods whose next batch does not depend on results (random search): they keep
   *  proposing while results are outstanding, so a farm's agents all stay busy. */
  protected readonly waitsForResults: boolean = true;
  /** The call being served: how many configs it still wants when the method is asked for its next
   *  batch, and how many results were outstanding when it began (methods that size their batches
   *  to the caller's free capacity read them). */
  protected readonly call = { wanted: 0, outstandingAtStart: 0 };

  constructor(options: ExplorerOptions) {
    if (!Number.isInteger(options.budget) || options.budget < 1) {
      throw new RangeError(`explorer budget must be a positive integer, got ${options.budget}`);
    }
    this.space = options.space;
    this.budget = options.budget;
    this.rng = new Rng(options.seed);
    this.giveUpAfter = options.giveUpAfter ?? defaultGiveUpAfter(options.budget);
    if (options.history?.length) this.record(options.history);
  }

  get done(): boolean { return this.finished; }
  get stopReason(): string | undefined { return this.reason; }
  get failed(): boolean { return this.gaveUp; }
  get timeoutMultiplier(): number { return this.timeoutFactor; }

  /** The method: yield batches of points to measure; when resumed, their results are in `measured`. */
  protected abstract search(): Generator<Point[], void, void>;

  next(n: number): Config[] {
    const out: Config[] = [];
    let emptyBatches = 0;
    this.call.outstandingAtStart = this.outstanding.size;
    while (out.length < n && !this.finished) {
      const point = this.queue.shift();
      if (point) {
        const key = this.space.pointKey(point);
        if (this.proposed.has(key)) continue;
        this.proposed.add(key);
        this.outstanding.add(key);
        out.push(this.space.toConfig(point));
        continue;
      }
      if (this.outstanding.size && !this.proceedsWhileOutstanding()) break;
      if (BigInt(this.proposed.size) >= this.space.size) { this.finish('every point of the space has been proposed'); break; }
      this.call.wanted = n - out.length;
      this.steps ??= this.search();
      const step = this.steps.next();
      if (step.done) { this.finish(`${this.name} search finished`); break; }
      if (step.value.some((p) => !this.proposed.has(this.space.pointKey(p)))) emptyBatches = 0;
      else if (++emptyBatches > MAX_EMPTY_BATCHES) { this.finish('no unvisited point left to propose'); break; }
      this.queue = [...step.value]; // the method keeps its batch to read results back
    }
    return out;
  }

  /** Results of configs proposed earlier are still to come: may the method go on without them? */
  protected proceedsWhileOutstanding(): boolean {
    return !this.waitsForResults;
  }

  /** Configs proposed and not yet measured. */
  protected get outstandingCount(): number { return this.outstanding.size; }

  update(results: MeasureResult[]): void {
    this.record(results);
    const valid = this.results.some((r) => !r.error && r.median !== null);
    if (!valid && this.results.length >= this.giveUpAfter) this.giveUp();
  }

  remeasure(): Config[] {
    const out = this.remeasureQueue.map((p) => this.space.toConfig(p));
    this.remeasureQueue = [];
    return out;
  }

  protected requestRemeasure(points: Point[]): void {
    this.remeasureQueue.push(...points);
  }

  /** Stop because nothing measured is valid (the caller reports it as a failure). */
  protected giveUp(): void {
    if (this.finished) return;
    this.gaveUp = true;
    this.finish(noValidConfigMessage(this.results));
  }

  /** Valid measurements so far (history included). */
  protected validCount(): number {
    let n = 0;
    for (const m of this.measured.values()) if (m.seconds !== null) n++;
    return n;
  }

  /** True when some result so far ran out of time (a longer timeout might make it valid). */
  protected sawTimeouts(): boolean {
    return this.results.some((r) => r.error?.code === 'RUN_TIMEOUT' || r.error?.code === 'BUILD_TIMEOUT');
  }

  protected finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.reason = reason;
  }

  /** Measured valid points, fastest first (the `count` fastest when given). */
  protected ranked(count?: number): Measured[] {
    return this.rankedValid.top(count);
  }

  /** A random point never proposed, or null when none is left; `filtered: false` leaves the
   *  space's validity filter to the caller. */
  protected randomUnvisited(exclude?: KeySet, filtered = true): Point | null {
    const free = (p: Point) => {
      const key = this.space.pointKey(p);
      return !this.proposed.has(key) && !exclude?.has(key);
    };
    for (let t = 0; t < REJECTION_TRIES; t++) {
      const p = this.space.randomPoint(this.rng, filtered);
      if (free(p)) return p;
    }
    if (this.space.size > ENUMERABLE_POINTS) {
      // Huge space and still no luck: keep drawing (the space is practically never exhausted).
      for (let t = 0; t < 100 * REJECTION_TRIES; t++) {
        const p = this.space.randomPoint(this.rng, filtered);
        if (free(p)) return p;
      }
      return null;
    }
    const left: Point[] = [];
    for (let r = 0n; r < this.space.size; r++) {
      const p = this.space.pointAt(r);
      if (free(p)) left.push(p);
    }
    return left.length ? this.rng.pick(left) : null;
  }

  /** Random warm-up of the learned methods: `warmup` points (those already measured count) in
   *  rounds of up to 20, then rounds of `retryRound` until one is valid (the base gives up when
   *  none is). Returns false when the space has no unvisited point left. */
  protected *randomWarmup(warmup: number, retryRound: number): Generator<Point[], boolean, void> {
    let left = warmup - this.measured.size;
    while (left > 0) {
      const batch = this.randomBatch(Math.min(20, left));
      if (!batch.length) return false;
      yield batch;
      left -= batch.length;
    }
    while (!this.best) {
      const batch = this.randomBatch(retryRound);
      if (!batch.length) return false;
      yield batch; // the base gives up once enough measurements found nothing valid
    }
    return true;
  }

  /** Up to `count` distinct unvisited random points, none of them in `exclude` (keys, or a set or
   *  map of them, consulted as it is); `filtered` as for randomUnvisited. */
  protected randomBatch(count: number, exclude: Iterable<string> | KeySet = [], filtered = true): Point[] {
    const out: Point[] = [];
    const given = 'has' in exclude ? exclude : null;
    const taken = new Set<string>(given ? [] : exclude as Iterable<string>);
    const excluded: KeySet = given ? { has: (key) => taken.has(key) || given.has(key) } : taken;
    while (out.length < count) {
      const p = this.randomUnvisited(excluded, filtered);
      if (!p) break;
      taken.add(this.space.pointKey(p));
      out.push(p);
    }
    return out;
  }

  protected isProposed(point: Point): boolean {
    return this.proposed.has(this.space.pointKey(point));
  }

  private record(results: readonly MeasureResult[]): void {
    for (const r of results) {
      this.results.push(r);
      const point = this.space.fromConfig(r.config);
      if (!point) continue;
      const key = this.space.pointKey(point);
      this.outstanding.delete(key);
      this.proposed.add(key);
      const seconds = r.error || r.median === null || !Number.isFinite(r.median) ? null : r.median;
      const previous = this.measured.get(key);
      const m: Measured = { point, key, seconds, order: previous?.order ?? this.measured.size };
      this.measured.set(key, m);
      this.rankedValid.set(m, previous);
      if (seconds !== null && (!this.best || seconds < this.best.seconds!)) this.best = m;
      else if (this.best?.key === key) this.best = this.rankedValid.first(); // re-measured slower
    }
  }
}
