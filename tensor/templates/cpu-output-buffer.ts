// The output buffer of the CPU template (TVM's cache_write): register tiles that accumulate into
// the output across outer reduce iterations do so in a buffer blocked like the tiles, so that
// each pass loads and stores one contiguous block of whole vectors. In the output's own order a
// tile whose vector axis is not the output's innermost dimension needs one scalar access per
// lane, once per reduce block (measured on yolo-C10: blocking the reduction for L1 pays only once
// those passes are cheap; a buffer in the output's shape with the vector axis innermost was 8 %
// slower than the blocked one, its rows a page apart). Each parallel tile zeroes its part of the
// buffer before its reduction and copies it to the output, in the output's order, right after,
// while it is still in cache.
import type { ComputeDef } from '../compute.ts';
import { add, and, float, int, load, loop, lt, mul, seq, simplify, v, type Expr, type Stmt } from '../ir.ts';
import { levelVar, type AxisPlan, type CpuPlan } from './cpu-plan.ts';

export const outputBufferName = (def: ComputeDef) => `${def.output.name}_acc`;

/** Tiles accumulate into a buffer rather than into the output: they accumulate across outer
 *  reduce loops, and the vector axis is not the output's innermost dimension. */
export function buffersOutput(plan: CpuPlan, accumulateIntoOutput: boolean): boolean {
  const axis = plan.vectorAxis;
  if (!accumulateIntoOutput || !axis || axis.factors[3] <= 1) return false;
  return plan.spatial.slice(plan.spatial.indexOf(axis) + 1).some((a) => a.extent > 1);
}

/** The tile's order: the definition's spatial axes with the vector axis moved innermost. */
export const tileOrder = (plan: CpuPlan): AxisPlan[] =>
  plan.vectorAxis ? [...plan.spatial.filter((a) => a !== plan.vectorAxis), plan.vectorAxis] : plan.spatial;

/** One dimension of the buffer: an axis at one level of its split. */
interface BufferDim { axis: AxisPlan; level: number }

/** Levels outermost first, the axes of each in the definition's order, the register tile's
 *  own level (3) in the tile's order: a tile's partial sums are one contiguous block. */
function bufferDims(plan: CpuPlan): BufferDim[] {
  const dims: BufferDim[] = [];
  for (let level = 0; level < 3; level++) {
    for (const axis of plan.spatial) if (axis.factors[level] > 1) dims.push({ axis, level });
  }
  for (const axis of tileOrder(plan)) if (axis.factors[3] > 1) dims.push({ axis, level: 3 });
  return dims;
}

/** The value of an axis's split level in a loop nest; 0 where the level has factor 1. */
type Levels = (axis: AxisPlan, level: number) => Expr;

/** The buffer's element of the point whose split levels are `at` (levels the split leaves at 1 are 0). */
export const bufferIndex = (plan: CpuPlan, at: Levels): Expr[] => bufferDims(plan).map((d) => at(d.axis, d.level));

export const outputBufferAlloc = (def: ComputeDef, plan: CpuPlan): Stmt =>
  ({ k: 'alloc', name: outputBufferName(def), shape: bufferDims(plan).map((d) => d.axis.factors[d.level]), scope: 'static' });

/** Zero the parallel tile's part of the buffer, run `reduction`, copy the part to the output. */
export function bufferedTile(def: ComputeDef, plan: CpuPlan, parallel: AxisPlan[], reduction: Stmt): Stmt {
  const buffer = outputBufferName(def);
  // Inside one iteration of the parallel loops their level-0 variables are fixed; every other
  // level of every axis is looped over.
  const fixed = (d: BufferDim) => d.level === 0 && parallel.includes(d.axis);
  const name = (d: BufferDim) => (fixed(d) ? levelVar(d.axis.name, 0) : `${d.axis.name}_o${d.level}`);
  const at: Levels = (axis, level) => (axis.factors[level] > 1 ? v(name({ axis, level })) : int(0));
  const nest = (dims: BufferDim[], body: Stmt, innermostVector: boolean): Stmt => {
    const looped = dims.filter((d) => !fixed(d));
    return looped.reduceRight((inner, d, i) => loop(name(d), d.axis.factors[d.level], innermostVector && i === looped.length - 1 ? 'vector' : 'serial', inner), body);
  };

  const dims = bufferDims(plan);
  const zero = nest(dims, { k: 'store', tensor: buffer, index: bufferIndex(plan, at), value: float(0) }, plan.vectorAxis === dims[dims.length - 1].axis);
  // The copy runs in the output's order: each axis's levels outermost first, so its innermost
  // writes are contiguous; points past the end of an axis (a split whose product exceeds it) were
  // never computed.
  const outIndex = plan.spatial.map((a) => simplify(a.factors.reduce<Expr>((e, f, level) => add(mul(e, int(f)), at(a, level)), int(0))));
  const inside = plan.spatial.flatMap((a, i) => (a.perfect ? [] : [lt(outIndex[i], int(a.extent))]));
  const write: Stmt = { k: 'store', tensor: def.output.name, index: outIndex, value: load(buffer, bufferIndex(plan, at)) };
  const outputOrder = plan.spatial.flatMap((axis) => [0, 1, 2, 3].filter((level) => axis.factors[level] > 1).map((level) => ({ axis, level })));
  const copy = nest(outputOrder, inside.length ? { k: 'if', cond: and(...inside), then: write } : write, false);
  return seq(zero, reduction, copy);
}
