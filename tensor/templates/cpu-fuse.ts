// Fusing two adjacent spatial axes a, b into one axis ab = a·E_b + b, so that short axes still
// fill vectors and tiles (h·w of a 1×1 convolution: 56 × 56 = 3136, whole 16-float vectors).
// Legal when every tensor that a or b index holds them in two adjacent dimensions, a + t1 and
// b + t2, the inner one of extent E_b, and nothing else reads a or b: the two dimensions then
// merge into one of the same memory, indexed ab + t1·E_b + t2. The lowered nest indexes those
// tensors with the merged shape (a `view` statement); their memory is untouched.
import type { ComputeDef, TensorDecl } from '../compute.ts';
import { dependsOn, strideIn } from '../affine.ts';
import { add, int, mapExpr, mul, simplify, substitute, v, type Expr, type Stmt } from '../ir.ts';
import { guardedLoads } from './cpu-layout.ts';

type Load = Extract<Expr, { k: 'load' }>;

export const fusedName = (def: ComputeDef, outer: number) => `${def.spatial[outer].name}${def.spatial[outer + 1].name}`;

/** The dimension d of `load` with a + t1 in d and b + t2 in d + 1, or -1. */
function mergedDim(load: Load, shape: number[], a: string, b: string, extentB: number): number {
  const d = load.index.findIndex((e) => dependsOn(e, a) || dependsOn(e, b));
  if (d < 0 || d + 1 >= load.index.length || shape[d + 1] !== extentB) return -1;
  const [outer, inner] = [load.index[d], load.index[d + 1]];
  if (strideIn(outer, a) !== 1 || strideIn(outer, b) !== 0 || strideIn(inner, b) !== 1 || strideIn(inner, a) !== 0) return -1;
  const rest = load.index.filter((_, i) => i !== d && i !== d + 1);
  return rest.some((e) => dependsOn(e, a) || dependsOn(e, b)) ? -1 : d;
}

export interface Fusion {
  /** The definition with ab in place of a and b, and the tensors they index reshaped. */
  def: ComputeDef;
  /** The reshaped tensors, for the nest's `view` statements. */
  views: { tensor: string; shape: number[] }[];
}

const cache = new WeakMap<ComputeDef, Map<number, Fusion | null>>();

/** Spatial axes a = spatial[outer], b = spatial[outer + 1] fused, or null when not legal. */
export function fuseAxes(def: ComputeDef, outer: number): Fusion | null {
  let byOuter = cache.get(def);
  if (!byOuter) { byOuter = new Map(); cache.set(def, byOuter); }
  if (!byOuter.has(outer)) byOuter.set(outer, computeFusion(def, outer));
  return byOuter.get(outer)!;
}

function computeFusion(def: ComputeDef, outer: number): Fusion | null {
  const a = def.spatial[outer], b = def.spatial[outer + 1];
  if (!a || !b) return null;
  const name = fusedName(def, outer);
  if ([...def.spatial, ...def.reduce].some((x) => x.name === name)) return null;
  const merge = (shape: number[], d: number) => [...shape.slice(0, d), shape[d] * shape[d + 1], ...shape.slice(d + 2)];
  const dims = new Map<string, number>();
  for (const { load, guards } of guardedLoads(def.body)) {
    if (guards.some((g) => dependsOn(g, a.name) || dependsOn(g, b.name))) return null;
    if (!load.index.some((e) => dependsOn(e, a.name) || dependsOn(e, b.name))) continue;
    const decl = def.inputs.find((t) => t.name === load.tensor)!;
    const d = mergedDim(load, decl.shape, a.name, b.name, b.extent);
    if (d < 0 || (dims.has(load.tensor) && dims.get(load.tensor) !== d)) return null;
    dims.set(load.tensor, d);
  }
  // A reshaped tensor must be read through the merged dimensions everywhere.
  const loads = guardedLoads(def.body);
  if (loads.some(({ load }) => dims.has(load.tensor) && !load.index.some((e) => dependsOn(e, a.name) || dependsOn(e, b.name)))) return null;
  const index = (load: Load, d: number): Expr[] => {
    const t1 = simplify(substitute(load.index[d], { [a.name]: int(0) }));
    const t2 = simplify(substitute(load.index[d + 1], { [b.name]: int(0) }));
    return [...load.index.slice(0, d), simplify(add(add(v(name), mul(t1, int(b.extent))), t2)), ...load.index.slice(d + 2)];
  };
  const rewrite = (body: Expr): Expr => mapExpr(body, (e) => {
    if (e.k !== 'load') return e;
    const d = dims.get(e.tensor);
    return d === undefined ? e : { ...e, index: index(e, d) };
  });
  const inputs: TensorDecl[] = def.inputs.map((t) => (dims.has(t.name) ? { ...t, shape: merge(t.shape, dims.get(t.name)!) } : t));
  const output = { ...def.output, shape: merge(def.output.shape, outer) };
  const spatial = [...def.spatial.slice(0, outer), { name, extent: a.extent * b.extent }, ...def.spatial.slice(outer + 2)];
  return {
    def: { ...def, inputs, output, spatial, body: rewrite(def.body) },
    views: [...inputs.filter((t) => dims.has(t.name)), output].map((t) => ({ tensor: t.name, shape: t.shape })),
  };
}

/** Outer indices of the adjacent spatial pairs that can be fused (both extents above 1). */
export function fusablePairs(def: ComputeDef): number[] {
  return def.spatial.slice(0, -1).flatMap((a, i) => (a.extent > 1 && def.spatial[i + 1].extent > 1 && fuseAxes(def, i) ? [i] : []));
}

/** The nest with the reshaped tensors declared first. */
export const withViews = (nest: Stmt, views: Fusion['views']): Stmt =>
  views.length ? { k: 'seq', body: [...views.map((view): Stmt => ({ k: 'view', ...view })), nest] } : nest;
