// The two data-layout stages of the CPU template, as loop nests over file-scope buffers:
// - padding stage (timed, part of the kernel): T_pad = T surrounded by zeros, so the main loops
//   read it with no guard;
// - packing (untimed, the prepare step): T_packed = T with the dimension indexed by the vector
//   axis cut into blocks of the register tile's width and the block moved innermost, so the
//   tile's loads along the vector axis are contiguous (TVM's OIHW[x]o, Ansor's layout rewrite).
import type { ComputeDef } from '../compute.ts';
import {
  add, and, float, ge, int, load, loop, lt, mul, select, seq, simplify, sub, v, type Expr, type LoopKind, type Stmt,
} from '../ir.ts';
import { dimIndexedBy, guardedLoads, type StagePlan } from './cpu-layout.ts';

export const stagedName = (tensor: string) => `${tensor}_pad`;
export const packedName = (tensor: string) => `${tensor}_packed`;

/** A loop nest over `shape`: outer dimensions parallel (up to two, collapsed), innermost vector. */
function fillNest(prefix: string, shape: number[], store: (index: Expr[]) => Stmt): Stmt {
  const vars = shape.map((_, d) => `${prefix}${d}`);
  const parallel = Math.min(2, shape.length - 1);
  let body = store(vars.map(v));
  for (let d = shape.length - 1; d >= 0; d--) {
    const kind: LoopKind = d === shape.length - 1 ? 'vector' : d < parallel ? 'parallel' : 'serial';
    body = loop(vars[d], shape[d], kind, body);
  }
  return body;
}

/** Copy `plan.tensor` into its zero-padded buffer; borders are written every run too. */
export function stageNest(def: ComputeDef, plan: StagePlan): Stmt {
  const decl = def.inputs.find((t) => t.name === plan.tensor)!;
  const fill = fillNest(`${plan.tensor.toLowerCase()}p_`, plan.shape, (index) => {
    const source = index.map((e, d) => simplify(sub(e, int(plan.low[d]))));
    const inside = source.flatMap((e, d) => [
      ...(plan.low[d] > 0 ? [ge(e, int(0))] : []),
      ...(plan.shape[d] - plan.low[d] > decl.shape[d] ? [lt(e, int(decl.shape[d]))] : []),
    ]);
    const value = inside.length ? select(and(...inside), load(plan.tensor, source), float(0)) : load(plan.tensor, source);
    return { k: 'store', tensor: stagedName(plan.tensor), index, value };
  });
  return seq({ k: 'alloc', name: stagedName(plan.tensor), shape: plan.shape, scope: 'static' }, fill);
}

/** Where the vector axis sits in a packed input: its dimension and the block width. */
export interface PackPlan { tensor: string; dim: number; block: number; shape: number[] }

export function packPlan(def: ComputeDef, tensor: string, axis: string, block: number): PackPlan {
  const decl = def.inputs.find((t) => t.name === tensor)!;
  const site = guardedLoads(def.body).find((l) => l.load.tensor === tensor)!;
  const dim = dimIndexedBy(site.load, axis);
  const rest = decl.shape.filter((_, d) => d !== dim);
  return { tensor, dim, block, shape: [Math.ceil(decl.shape[dim] / block), ...rest, block] };
}

/** The prepare step: fill the packed buffer, zeros past the end of a partial last block. */
export function packNest(def: ComputeDef, plan: PackPlan): Stmt {
  const decl = def.inputs.find((t) => t.name === plan.tensor)!;
  const extent = decl.shape[plan.dim];
  const fill = fillNest(`${plan.tensor.toLowerCase()}k_`, plan.shape, (index) => {
    const block = index[0], lane = index[index.length - 1];
    const position = simplify(add(mul(block, int(plan.block)), lane));
    const source = index.slice(1, -1);
    source.splice(plan.dim, 0, position);
    const value = extent % plan.block === 0
      ? load(plan.tensor, source)
      : select(lt(position, int(extent)), load(plan.tensor, source), float(0));
    return { k: 'store', tensor: packedName(plan.tensor), index, value };
  });
  return seq({ k: 'alloc', name: packedName(plan.tensor), shape: plan.shape, scope: 'static' }, { k: 'prepare', body: fill });
}

/** The body reading packed inputs: `T[.., a, ..]` becomes `T_packed[tile, .., lane]`. */
export function readPacked(e: Expr, plans: PackPlan[], tile: Expr, lane: Expr): Expr {
  switch (e.k) {
    case 'load': {
      const plan = plans.find((p) => p.tensor === e.tensor);
      if (!plan) return e;
      return { k: 'load', tensor: packedName(e.tensor), index: [tile, ...e.index.filter((_, d) => d !== plan.dim), lane] };
    }
    case 'bin': return { ...e, a: readPacked(e.a, plans, tile, lane), b: readPacked(e.b, plans, tile, lane) };
    case 'select': return { ...e, a: readPacked(e.a, plans, tile, lane), b: readPacked(e.b, plans, tile, lane) };
    default: return e;
  }
}
