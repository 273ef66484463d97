// The two data-layout stages of the CPU template, as loop nests over file-scope buffers:
// - padding stage (timed, part of the kernel): T_pad = T surrounded by zeros, so the main loops
//   read it with no guard;
// - packing (untimed, the prepare step): T_packed = T with the dimension indexed by the vector
//   axis cut into blocks of the register tile's width and the block moved innermost, so the
//   tile's loads along the vector axis are contiguous (TVM's OIHW[x]o, Ansor's layout rewrite).
import type { ComputeDef } from '../compute.ts';
import {
  add, and, float, ge, int, load, loop, lt, mapExpr, min, mul, select, seq, simplify, sub, v, type Expr, type Stmt,
} from '../ir.ts';
import { dimIndexedBy, guardedLoads, type StagePlan } from './cpu-layout.ts';
import type { AxisPlan } from './cpu-plan.ts';

export const stagedName = (tensor: string) => `${tensor}_pad`;
export const packedName = (tensor: string) => `${tensor}_packed`;

/** The part of a dimension one loop covers: [offset, offset + extent). */
export interface DimWindow { offset: Expr; extent: Expr }

/** The part of an axis one iteration of its level-0 loop (variable `outer`) covers; the last
 *  may be short. */
export function tileWindow(a: AxisPlan, outer: string): DimWindow {
  const span = a.factors[1] * a.factors[2] * a.factors[3];
  const offset = simplify(mul(v(outer), int(span)));
  return { offset, extent: a.perfect ? int(span) : simplify(min(int(span), sub(int(a.extent), offset))) };
}

/** A loop nest over `shape` (or the window of it): outer dimensions parallel (up to two,
 *  collapsed) unless `serial`, innermost vector; `rows` builds the body of the innermost
 *  dimension from the outer indices. */
function nestOver(prefix: string, shape: number[], rows: (outer: Expr[], last: string, relative: Expr[]) => Stmt, window?: (DimWindow | null)[], serial = false): Stmt {
  const vars = shape.map((_, d) => `${prefix}${d}`);
  const parallel = serial ? 0 : Math.min(2, shape.length - 1);
  const at = (d: number): Expr => (window?.[d] ? simplify(add(window[d]!.offset, v(vars[d]))) : v(vars[d]));
  const outer = vars.slice(0, -1);
  let body = rows(outer.map((_, d) => at(d)), vars[vars.length - 1], outer.map((name) => v(name)));
  for (let d = shape.length - 2; d >= 0; d--) body = loop(vars[d], window?.[d]?.extent ?? int(shape[d]), d < parallel ? 'parallel' : 'serial', body);
  return body;
}

function fillNest(prefix: string, shape: number[], store: (index: Expr[]) => Stmt): Stmt {
  return nestOver(prefix, shape, (outer, last) => loop(last, shape[shape.length - 1], 'vector', store([...outer, v(last)])));
}

/** Copy `plan.tensor` into its zero-padded buffer, a row at a time: rows outside the input are
 *  zeroed whole, rows inside get zeros left, the input's row (contiguous on both sides, so it
 *  vectorises without gathers), zeros right. Borders are written every run too: it is timed.
 *  With a window (outer dimensions only), the copy covers that part of the buffer, in serial
 *  loops: the slice one parallel tile reads, copied by that tile (stageWindow). */
export function stageNest(def: ComputeDef, plan: StagePlan, window?: (DimWindow | null)[], local = false): Stmt {
  const decl = def.inputs.find((t) => t.name === plan.tensor)!;
  const name = stagedName(plan.tensor), rank = plan.shape.length, lastDim = rank - 1;
  const low = plan.low[lastDim], width = decl.shape[lastDim], high = plan.shape[lastDim] - low - width;
  const fill = nestOver(`${plan.tensor.toLowerCase()}p_`, plan.shape, (absolute, last, relative) => {
    const source = absolute.map((e, d) => simplify(sub(e, int(plan.low[d]))));
    // A tile's own buffer holds only its window: it is indexed from the window's start.
    const outer = local ? relative : absolute;
    const inside = source.flatMap((e, d) => [
      ...(plan.low[d] > 0 ? [ge(e, int(0))] : []),
      ...(plan.shape[d] - plan.low[d] > decl.shape[d] ? [lt(e, int(decl.shape[d]))] : []),
    ]);
    const span = (from: number, extent: number, value: (j: Expr) => Expr): Stmt[] => extent <= 0 ? [] : [
      loop(last, extent, 'vector', { k: 'store', tensor: name, index: [...outer, simplify(add(v(last), int(from)))], value: value(v(last)) }),
    ];
    const row = seq(...span(0, low, () => float(0)), ...span(low, width, (j) => load(plan.tensor, [...source, j])), ...span(low + width, high, () => float(0)));
    if (!inside.length) return row;
    return { k: 'if', cond: and(...inside), then: row, else: seq(...span(0, plan.shape[lastDim], () => float(0))) };
  }, window, window !== undefined);
  return window ? fill : seq({ k: 'alloc', name, shape: plan.shape, scope: 'static' }, fill);
}

/** The buffer of a stage, for a nest that fills it inside the parallel tiles: the whole padded
 *  input, or only the part one tile fills (`tileShape`), on the tile's stack. */
export const stageBuffer = (plan: StagePlan, tileShape?: number[]): Stmt =>
  ({ k: 'alloc', name: stagedName(plan.tensor), shape: tileShape ?? plan.shape, scope: tileShape ? 'local' : 'static' });

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
  return mapExpr(e, (x) => {
    if (x.k !== 'load') return x;
    const plan = plans.find((p) => p.tensor === x.tensor);
    return plan ? { k: 'load', tensor: packedName(x.tensor), index: [tile, ...x.index.filter((_, d) => d !== plan.dim), lane] } : x;
  });
}
