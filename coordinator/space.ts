// The schedule space of one (workload, template) as FlexTensor defines it: named sub-spaces (one
// per knob), a point = one entity index per sub-space, directions that move within a sub-space,
// neighbours, uniform random points and a feature vector for learned methods.
//
// Split directions are ordered pairs (i, j), i != j: factor i grows, factor j shrinks.
// - Exact sub-spaces (every entity's product is the extent; FlexTensor's original): factor i
//   grows to the next larger value that divides P = f_i * f_j, factor j becomes P / f_i'.
// - Imperfect sub-spaces (flexfarm's default, f0 = ceil(E / product of inner factors)):
//   * i, j both inner: f_i grows to the next larger value v that appears at position i, f_j
//     becomes the largest value w at position j with v * w <= f_i * f_j (the pair's tile does
//     not grow), f0 is recomputed; the first v whose entity exists is taken.
//   * j = 0 (outer absorbs): f_i grows to the next larger value whose entity exists; f0 is
//     recomputed and shrinks.
//   * i = 0 (outer grows): f_j shrinks to the largest smaller value at which f0 actually grows.
//   * doubling moves (i, j, double), only here: as above with f_i' = 2 f_i exactly (i = 0: f_j'
//     at most f_j / 2), so powers of two are one move apart even where divisors lie between.
//   On extents where every entity is perfect (powers of two) both rules give the same moves.
// A move that finds no such entity is not a direction from that point (no neighbour).
// Choice sub-spaces (reorder, unroll, …) move -1 and +1, cyclic.
import type { Config, Knob } from '../tensor/templates/template.ts';
import type { Rng } from './explore/rng.ts';

/** One index per sub-space, in the order of the space's knobs. */
export type Point = number[];

export type Direction =
  | { kind: 'split'; grow: number; shrink: number; double?: true }
  | { kind: 'cyclic'; delta: 1 | -1 };

export interface SubSpace {
  readonly name: string;
  readonly knob: Knob;
  readonly size: number;
  readonly directions: Direction[];
}

/** Thrown when a space cannot be built from the knobs given. */
export class SpaceError extends Error {
  override name = 'SpaceError';
}

const entityKey = (e: number | number[]): string => (Array.isArray(e) ? e.join('x') : String(e));
const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

export interface SpaceOptions {
  accepts?: (config: Config) => boolean;
}

/** Filter answers kept before the cache is emptied. */
const MAX_CACHED_ANSWERS = 200_000;

/** Draws of randomPoint before it gives up on the validity filter. */
const MAX_RANDOM_TRIES = 1000;

/** The largest number of choices for which a choice knob is one-hot encoded in features. */
const MAX_ONE_HOT = 16;

class SubSpaceImpl implements SubSpace {
  readonly name: string;
  readonly size: number;
  readonly directions: Direction[];
  private readonly keys = new Map<string, number>();
  /** Split only: sorted distinct values that occur at each factor position. */
  private readonly positionValues: number[][] = [];
  private readonly exact: boolean;
  /** moves[index * directions + d] = target index, -1 = none, -2 = not computed yet. */
  private readonly moves: Int32Array;

  constructor(readonly knob: Knob) {
    this.name = knob.name;
    this.size = knob.entities.length;
    if (!this.size) throw new SpaceError(`knob ${knob.name} has no entities`);
    knob.entities.forEach((e, i) => {
      const key = entityKey(e);
      if (this.keys.has(key)) throw new SpaceError(`knob ${knob.name} lists entity ${key} twice`);
      this.keys.set(key, i);
    });
    if (knob.kind === 'split') {
      if (!knob.axis) throw new SpaceError(`split knob ${knob.name} has no axis`);
      const parts = (knob.entities[0] as number[]).length;
      for (let p = 0; p < parts; p++) {
        const values = new Set(knob.entities.map((e) => (e as number[])[p]));
        this.positionValues.push([...values].sort((a, b) => a - b));
      }
      const extent = knob.axis.extent;
      this.exact = knob.entities.every((e) => product(e as number[]) === extent);
      this.directions = [];
      // Imperfect sub-spaces interleave divisors with powers of two (28: 1 2 4 7 8 14 16 28), so
      // "next larger value" alone walks 4 -> 7 -> 8 -> 14 -> 16 through factors that are poor
      // vector and tile widths; doubling moves (4 -> 8 -> 16), listed after the others, step over them.
      for (const double of this.exact ? [false] : [false, true]) {
        for (let i = 0; i < parts; i++) {
          for (let j = 0; j < parts; j++) if (i !== j) this.directions.push({ kind: 'split', grow: i, shrink: j, ...(double ? { double: true as const } : {}) });
        }
      }
    } else {
      this.exact = true;
      this.directions = this.size > 1 ? [{ kind: 'cyclic', delta: -1 }, { kind: 'cyclic', delta: 1 }] : [];
    }
    this.moves = new Int32Array(this.size * this.directions.length).fill(-2);
  }

  indexOf(entity: unknown): number {
    if (typeof entity !== 'number' && !(Array.isArray(entity) && entity.every((x) => typeof x === 'number'))) return -1;
    return this.keys.get(entityKey(entity as number | number[])) ?? -1;
  }

  /** The index reached from `index` along direction `d`, or -1 when that move does not exist. */
  move(index: number, d: number): number {
    const slot = index * this.directions.length + d;
    let target = this.moves[slot];
    if (target === -2) {
      target = this.computeMove(index, this.directions[d]);
      this.moves[slot] = target;
    }
    return target;
  }

  private computeMove(index: number, dir: Direction): number {
    if (dir.kind === 'cyclic') return (index + dir.delta + this.size) % this.size;
    const f = this.knob.entities[index] as number[];
    const { grow: i, shrink: j } = dir;
    const extent = this.knob.axis!.extent;
    const lookup = (g: number[]) => this.keys.get(entityKey(g)) ?? -1;
    if (this.exact) {
      const pair = f[i] * f[j];
      for (const v of this.positionValues[i]) {
        if (v <= f[i] || pair % v !== 0) continue;
        const g = [...f]; g[i] = v; g[j] = pair / v;
        const found = lookup(g);
        if (found >= 0) return found;
      }
      return -1;
    }
    const withOuter = (g: number[]) => { g[0] = Math.ceil(extent / product(g.slice(1))); return g; };
    if (i === 0) {
      for (const w of [...this.positionValues[j]].reverse()) {
        if (w >= f[j] || (dir.double && 2 * w > f[j])) continue;
        const g = [...f]; g[j] = w; withOuter(g);
        if (g[0] > f[0]) return lookup(g);
      }
      return -1;
    }
    for (const v of this.positionValues[i]) {
      if (v <= f[i] || (dir.double && v !== 2 * f[i])) continue;
      const g = [...f]; g[i] = v;
      if (j !== 0) {
        const budget = f[i] * f[j];
        const ws = this.positionValues[j].filter((w) => v * w <= budget);
        if (!ws.length) continue;
        g[j] = ws[ws.length - 1];
      }
      withOuter(g);
      const found = lookup(g);
      if (found >= 0 && found !== index) return found;
    }
    return -1;
  }

  features(index: number, out: number[]): void {
    const e = this.knob.entities[index];
    if (this.knob.kind === 'split') {
      const scale = Math.log2(Math.max(2, this.knob.axis!.extent));
      for (const factor of e as number[]) out.push(Math.log2(factor) / scale);
    } else if (this.size <= MAX_ONE_HOT) {
      for (let k = 0; k < this.size; k++) out.push(k === index ? 1 : 0);
    } else {
      out.push(index / (this.size - 1));
    }
  }

  featureLength(): number {
    if (this.knob.kind === 'split') return (this.knob.entities[0] as number[]).length;
    return this.size <= MAX_ONE_HOT ? this.size : 1;
  }
}

export class Space {
  readonly subspaces: readonly SubSpace[];
  /** Exact number of points: the product of the sub-space sizes. */
  readonly size: bigint;
  readonly featureLength: number;
  private readonly subs: SubSpaceImpl[];

  /** Points whose config `accepts` refuses (a template's validity check against the device's
   *  limits) are never proposed: random points are drawn again, moves onto them are no moves. */
  private readonly accepts?: (config: Config) => boolean;
  /** The filter's answers by point key: a template check per neighbour is the costliest part of a
   *  learned search's round, and its walks meet the same neighbours round after round. */
  private readonly acceptedCache = new Map<string, boolean>();

  /** Built from a template's knobs (or any subset of them, e.g. FlexTensor's count without reorder). */
  constructor(knobs: readonly Knob[], options: SpaceOptions = {}) {
    this.accepts = options.accepts;
    if (!knobs.length) throw new SpaceError('a space needs at least one knob');
    const names = new Set<string>();
    for (const k of knobs) {
      if (names.has(k.name)) throw new SpaceError(`knob ${k.name} appears twice`);
      names.add(k.name);
    }
    this.subs = knobs.map((k) => new SubSpaceImpl(k));
    this.subspaces = this.subs;
    this.size = this.subs.reduce((n, s) => n * BigInt(s.size), 1n);
    this.featureLength = this.subs.reduce((n, s) => n + s.featureLength(), 0);
  }

  /** Stable text key of a point (used for "never propose twice" sets and logs). */
  pointKey(point: Point): string {
    return point.join(',');
  }

  contains(point: Point): boolean {
    return point.length === this.subs.length && point.every((x, s) => Number.isInteger(x) && x >= 0 && x < this.subs[s].size);
  }

  /** A uniform random point the validity filter accepts; `filtered: false` skips the filter (for
   *  callers that draw many and check only the few they keep). */
  randomPoint(rng: Rng, filtered = true): Point {
    let point = this.subs.map((s) => rng.int(s.size));
    if (!filtered) return point;
    // Bounded: a space that accepts almost nothing still yields points (measured as INSTANTIATION).
    for (let tries = 1; tries < MAX_RANDOM_TRIES && !this.isAccepted(point); tries++) point = this.subs.map((s) => rng.int(s.size));
    return point;
  }

  /** True unless the space's validity filter refuses the point's config. */
  isAccepted(point: Point): boolean {
    if (!this.accepts) return true;
    const key = this.pointKey(point);
    let accepted = this.acceptedCache.get(key);
    if (accepted === undefined) {
      accepted = this.accepts(this.toConfig(point));
      if (this.acceptedCache.size >= MAX_CACHED_ANSWERS) this.acceptedCache.clear();
      this.acceptedCache.set(key, accepted);
    }
    return accepted;
  }

  /** The point reached from `point` along direction `d` of sub-space `s`, or null when none. */
  move(point: Point, s: number, d: number): Point | null {
    const target = this.subs[s].move(point[s], d);
    if (target < 0 || target === point[s]) return null;
    const next = [...point];
    next[s] = target;
    return this.isAccepted(next) ? next : null;
  }

  /** Every distinct point one direction away, in sub-space then direction order; their keys
   *  (pointKey) go to `keys` when given. */
  neighbours(point: Point, keys?: string[]): Point[] {
    const out: Point[] = [];
    const seen = new Set<string>();
    this.subs.forEach((sub, s) => {
      for (let d = 0; d < sub.directions.length; d++) {
        const next = this.move(point, s, d);
        if (!next) continue;
        const key = this.pointKey(next);
        if (!seen.has(key)) { seen.add(key); out.push(next); keys?.push(key); }
      }
    });
    return out;
  }

  toConfig(point: Point): Config {
    const config: Config = {};
    this.subs.forEach((sub, s) => {
      const e = sub.knob.entities[point[s]];
      config[sub.name] = Array.isArray(e) ? [...e] : e;
    });
    return config;
  }

  /** The point of a config, or null when a knob is missing or its value is not an entity of it.
   *  Keys of the config that are not knobs of this space are ignored. */
  fromConfig(config: Config): Point | null {
    const point: Point = [];
    for (const sub of this.subs) {
      const index = sub.indexOf(config[sub.name]);
      if (index < 0) return null;
      point.push(index);
    }
    return point;
  }

  /** log2 of split factors normalised by log2 of the extent; one-hot (or normalised index) for choices. */
  features(point: Point): number[] {
    const out: number[] = [];
    this.subs.forEach((sub, s) => sub.features(point[s], out));
    return out;
  }

  /** The features of entity `index` of sub-space `s` (its slice of `features`). */
  subspaceFeatures(s: number, index: number): number[] {
    const out: number[] = [];
    this.subs[s].features(index, out);
    return out;
  }

  /** Enumerate the point with mixed-radix rank `rank` (last sub-space fastest); rank < size. */
  pointAt(rank: bigint): Point {
    const point = new Array<number>(this.subs.length);
    for (let s = this.subs.length - 1; s >= 0; s--) {
      const n = BigInt(this.subs[s].size);
      point[s] = Number(rank % n);
      rank /= n;
    }
    return point;
  }
}
