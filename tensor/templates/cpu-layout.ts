// What the compute definition allows the CPU template to change about data layout, read from the
// body alone (never from the operator's name):
// - vector axes: spatial axes along which every load is contiguous or invariant, or strided only
//   in constant inputs that can be packed so that it becomes contiguous;
// - packable inputs: constant inputs, and for each the spatial axis indexing one of its dimensions
//   on its own (`W[k, c, r, s]`: k indexes dimension 0), which a blocked layout can make innermost;
// - stageable inputs: inputs whose every load sits under a guard made only of bounds checks of
//   that load's own indices (padding), which a zero-padded copy removes.
import type { ComputeDef } from '../compute.ts';
import { flatStrideIn } from '../affine.ts';
import { add, int, rewriteExpr, simplify, subExprs, type Expr } from '../ir.ts';
import { indexInterval, type Interval } from './index-interval.ts';

type Load = Extract<Expr, { k: 'load' }>;

interface LoadSite {
  load: Load;
  /** Conditions of the selects around the load, outermost first. */
  guards: Expr[];
  /** The load is the whole value of `select(guard, load, 0)`: a padded read. */
  padded: boolean;
}

/** Every load of the body with the guard conditions around it. */
export function guardedLoads(e: Expr, guards: Expr[] = [], out: LoadSite[] = []): LoadSite[] {
  if (e.k === 'load') {
    out.push({ load: e, guards, padded: false });
  } else if (e.k === 'select') {
    if (e.a.k === 'load' && e.b.k === 'float' && e.b.v === 0) out.push({ load: e.a, guards: [...guards, e.cond], padded: true });
    else guardedLoads(e.a, [...guards, e.cond], out);
    guardedLoads(e.b, guards, out);
  } else {
    for (const sub of subExprs(e)) guardedLoads(sub, guards, out);
  }
  return out;
}

const shapeOf = (def: ComputeDef, tensor: string): number[] => {
  const t = def.inputs.find((i) => i.name === tensor);
  if (!t) throw new Error(`the body loads '${tensor}', which is not an input of ${def.key}`);
  return t.shape;
};

/** The dimension of `load` indexed by exactly the variable `axis` and by it alone, or -1. */
export function dimIndexedBy(load: Load, axis: string): number {
  const dims = load.index.map((e, d) => (e.k === 'var' && e.name === axis ? d : -1)).filter((d) => d >= 0);
  if (dims.length !== 1) return -1;
  const others = load.index.filter((_, d) => d !== dims[0]);
  return others.every((e) => flatStrideIn([e], [1], axis) === 0) ? dims[0] : -1;
}

/** Constant inputs that need packing for `axis` to be a vector axis, or null when it cannot be one. */
export function packingNeededFor(def: ComputeDef, axis: string): string[] | null {
  const needed: string[] = [];
  for (const { load } of guardedLoads(def.body)) {
    const stride = flatStrideIn(load.index, shapeOf(def, load.tensor), axis);
    if (stride === 0 || stride === 1) continue;
    const decl = def.inputs.find((t) => t.name === load.tensor)!;
    if (!decl.constant || dimIndexedBy(load, axis) < 0) return null;
    if (!needed.includes(load.tensor)) needed.push(load.tensor);
  }
  return needed;
}

/** Analyses are of the definition alone; explorers check thousands of configs of one def. */
function memo<T>(cache: WeakMap<ComputeDef, T>, def: ComputeDef, compute: () => T): T {
  let value = cache.get(def);
  if (value === undefined) { value = compute(); cache.set(def, value); }
  return value;
}
const vectorAxesCache = new WeakMap<ComputeDef, number[]>();
const packableCache = new WeakMap<ComputeDef, string[]>();
const stageableCache = new WeakMap<ComputeDef, StagePlan[]>();

/** Indices (into def.spatial) of the axes the innermost, vectorised loop may run along. */
export const vectorAxes = (def: ComputeDef): number[] => memo(vectorAxesCache, def, () =>
  def.spatial.flatMap((a, i) => (a.extent > 1 && packingNeededFor(def, a.name) !== null ? [i] : [])));

/** Constant inputs that some vector axis indexes on its own, in definition order: each gets a
 *  `pack.<name>` knob (blocking by any other axis would never make a tile's loads contiguous). */
export const packableInputs = (def: ComputeDef): string[] => memo(packableCache, def, () => def.inputs.filter((t) => {
  const loads = guardedLoads(def.body).filter(({ load }) => load.tensor === t.name);
  return t.constant && loads.length && vectorAxes(def).some((i) => loads.every(({ load }) => dimIndexedBy(load, def.spatial[i].name) >= 0));
}).map((t) => t.name));

/** A padding stage for one input: its loads read `name` shifted by `low` with no guard. */
export interface StagePlan { tensor: string; low: number[]; shape: number[] }

/** Bounds terms of a guard: `index >= 0` or `index < extent` for one dimension of the load. */
function isBoundsTerm(term: Expr, load: Load, shape: number[]): boolean {
  if (term.k !== 'cmp') return false;
  const d = load.index.findIndex((i) => sameExpr(i, term.a));
  if (d < 0) return false;
  return (term.op === '>=' && term.b.k === 'int' && term.b.v === 0) || (term.op === '<' && term.b.k === 'int' && term.b.v === shape[d]);
}

const sameExpr = (a: Expr, b: Expr): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The body reading staged inputs: `select(bounds, T[i], 0)` becomes `T_pad[i + low]`. */
export function readStaged(e: Expr, stages: StagePlan[], name: (tensor: string) => string): Expr {
  const shifted = (l: Load): Expr | null => {
    const stage = stages.find((s) => s.tensor === l.tensor);
    return stage ? { k: 'load', tensor: name(l.tensor), index: l.index.map((i, d) => simplify(add(i, int(stage.low[d])))) } : null;
  };
  // Top-down: a padded read is replaced whole, before its load is reached on its own.
  return rewriteExpr(e, (x) => {
    if (x.k === 'load') return shifted(x);
    return x.k === 'select' && x.a.k === 'load' && x.b.k === 'float' && x.b.v === 0 ? shifted(x.a) : null;
  });
}

/** Spatial axes that index one outer dimension of `tensor` on their own in every load (the
 *  channel of a depthwise convolution): parallel tiles split along them read disjoint slices,
 *  which each tile can pad for itself (pad.<T> = 2). */
export function sliceAxes(def: ComputeDef, tensor: string): string[] {
  const loads = guardedLoads(def.body).filter((l) => l.load.tensor === tensor);
  return def.spatial.filter((a) => {
    const dims = loads.map((l) => dimIndexedBy(l.load, a.name));
    return a.extent > 1 && dims[0] >= 0 && dims[0] < loads[0].load.index.length - 1 && dims.every((d) => d === dims[0]);
  }).map((a) => a.name);
}

/** Inputs every load of which is guarded by bounds checks alone, with the padding that removes them. */
export const stageableInputs = (def: ComputeDef): StagePlan[] => memo(stageableCache, def, () => findStageable(def));

function findStageable(def: ComputeDef): StagePlan[] {
  const loads = guardedLoads(def.body);
  const vars: Record<string, Interval> = {};
  for (const a of [...def.spatial, ...def.reduce]) vars[a.name] = { lo: int(0), extent: a.extent, exact: true };
  const plans: StagePlan[] = [];
  for (const t of def.inputs) {
    const mine = loads.filter((l) => l.load.tensor === t.name);
    if (!mine.length || !mine.some((l) => l.guards.length)) continue;
    // One guard, right around the load: dropping it exposes no other load.
    if (!mine.every((l) => l.guards.length === 0 || (l.padded && l.guards.length === 1))) continue;
    const terms = mine.flatMap((l) => l.guards.flatMap((g) => (g.k === 'and' ? g.terms : [g])).map((term) => ({ term, load: l.load })));
    if (!terms.every(({ term, load }) => isBoundsTerm(term, load, t.shape))) continue;
    const low = t.shape.map(() => 0), high = t.shape.map(() => 0);
    let bounded = true;
    for (const { load } of mine) {
      load.index.forEach((e, d) => {
        const range = indexInterval(e, vars);
        if (!range || range.lo.k !== 'int') { bounded = false; return; }
        low[d] = Math.max(low[d], -range.lo.v);
        high[d] = Math.max(high[d], range.lo.v + range.extent - t.shape[d]);
      });
    }
    if (bounded) plans.push({ tensor: t.name, low, shape: t.shape.map((x, d) => x + low[d] + high[d]) });
  }
  return plans;
}
