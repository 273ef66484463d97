// FlexTensor's CPU template: every spatial axis split in 4 levels and every reduce axis in 3.
//
//   S0 (all spatial axes, fused and parallel: OpenMP collapse)
//     S1 (cache tile)  [R0 here when reorder = 0]
//       S2 (register tiles inside the cache tile)
//         acc[S3 tile] ← out (or 0)        one accumulator tile in registers
//         R0? R1 R2 (reduce)               reorder = 1 keeps the whole reduction inside the tile
//           S3 loops, innermost non-unit one vectorised: acc += body
//         out ← acc
//   (reorder = 2 puts R0 between S0 and S1.)
//
// Tails of imperfect splits are guarded: a register tile that fits entirely takes a
// constant-extent path the compiler can unroll and vectorise; only edge tiles take the bounded one.
// Later knobs (vector width, packing into tile-contiguous buffers, prefetch) attach to the
// plan built in planCpu without changing the loop structure.
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import {
  add, and, float, int, le, load, loop, lt, min, mul, seq, simplify, sub, substitute, v,
  type Expr, type LoopKind, type Stmt,
} from '../ir.ts';
import { isPerfect, splitKnobs } from './split.ts';
import { checkKnobNames, splitFactors } from './config-checks.ts';
import type { Config, DeviceLimits, Knob, Template, TemplateOptions } from './template.ts';

export const CPU_SPATIAL_PARTS = 4;
export const CPU_REDUCE_PARTS = 3;
/** FlexTensor's unroll sub-space: [max unrolled body size, also unroll reduce loops]. */
export const UNROLL_ENTITIES: number[][] = [[0, 0], [0, 1], [1, 0], [1, 1], [512, 0], [512, 1], [1500, 0], [1500, 1]];
export const REORDER_ENTITIES = [0, 1, 2];
export const DEFAULT_MAX_ACCUMULATOR = 4096;

interface AxisPlan { name: string; extent: number; factors: number[]; perfect: boolean }
interface CpuPlan { spatial: AxisPlan[]; reduce: AxisPlan[]; reorder: number; unrollMaxStep: number; unrollReduce: boolean }

export const cpuTemplate: Template = {
  target: 'cpu',
  knobs(def: ComputeDef, options: TemplateOptions = {}): Knob[] {
    const exact = options.exactSplits ?? false;
    return [
      ...splitKnobs(def, CPU_SPATIAL_PARTS, CPU_REDUCE_PARTS, exact),
      { name: 'reorder', kind: 'choice', entities: REORDER_ENTITIES },
      { name: 'unroll', kind: 'choice', entities: UNROLL_ENTITIES },
    ];
  },
  check(def: ComputeDef, config: Config, limits: DeviceLimits): void {
    const plan = planCpu(def, config);
    const tile = plan.spatial.reduce((n, a) => n * a.factors[3], 1);
    const maxAcc = limits.maxAccumulator ?? DEFAULT_MAX_ACCUMULATOR;
    if (tile > maxAcc) {
      throw new InstantiationError(`register tile of ${tile} floats (level-3 factors) exceeds the limit of ${maxAcc}`);
    }
  },
  lower: (def: ComputeDef, config: Config): Stmt => lowerCpu(def, planCpu(def, config)),
};

/** Parse and validate a config against the def: every knob present and in its sub-space. */
export function planCpu(def: ComputeDef, config: Config): CpuPlan {
  checkKnobNames(def, config, 'cpu', [...def.spatial, ...def.reduce].map((a) => `split.${a.name}`).concat(['reorder', 'unroll']));
  const axis = (a: { name: string; extent: number }, parts: number): AxisPlan => {
    const factors = splitFactors(config, a, parts);
    return { name: a.name, extent: a.extent, factors, perfect: isPerfect(factors, a.extent) };
  };
  const reorder = config.reorder;
  if (typeof reorder !== 'number' || !REORDER_ENTITIES.includes(reorder)) {
    throw new InstantiationError(`knob 'reorder' must be one of ${REORDER_ENTITIES.join(', ')}, got ${JSON.stringify(reorder)}`);
  }
  const unroll = config.unroll;
  if (!Array.isArray(unroll) || !UNROLL_ENTITIES.some((u) => u[0] === unroll[0] && u[1] === unroll[1] && unroll.length === 2)) {
    throw new InstantiationError(`knob 'unroll' must be one of ${JSON.stringify(UNROLL_ENTITIES)}, got ${JSON.stringify(unroll)}`);
  }
  return {
    spatial: def.spatial.map((a) => axis(a, CPU_SPATIAL_PARTS)),
    reduce: def.reduce.map((a) => axis(a, CPU_REDUCE_PARTS)),
    reorder, unrollMaxStep: unroll[0], unrollReduce: unroll[1] === 1,
  };
}

const levelVar = (axis: string, level: number) => `${axis}_${level}`;
const baseVar = (axis: string) => `${axis}_b`;

/** Index of an axis from its level variables: ((x0*f1 + x1)*f2 + x2)*f3 + ... up to `upTo` levels. */
function levelIndex(a: AxisPlan, upTo: number): Expr {
  let e: Expr = int(0);
  for (let level = 0; level < upTo; level++) {
    const term = a.factors[level] > 1 ? v(levelVar(a.name, level)) : int(0);
    e = add(mul(e, int(a.factors[level])), term);
  }
  return simplify(e);
}

function lowerCpu(def: ComputeDef, plan: CpuPlan): Stmt {
  const { spatial, reduce } = plan;
  const r0Outside = plan.reorder !== 1 && reduce.some((a) => a.factors[0] > 1);
  const loops = (axes: AxisPlan[], level: number, kind: LoopKind, body: Stmt): Stmt =>
    axes.filter((a) => a.factors[level] > 1).reduceRight((inner, a) => loop(levelVar(a.name, level), a.factors[level], kind, inner), body);

  const tile = registerTile(def, plan, r0Outside);
  const s2 = loops(spatial, 2, 'serial', tile);
  const r0AtS1 = plan.reorder === 0 ? loops(reduce, 0, 'serial', s2) : s2;
  const s1 = loops(spatial, 1, 'serial', r0AtS1);
  const r0AtS0 = plan.reorder === 2 ? loops(reduce, 0, 'serial', s1) : s1;
  const nest = loops(spatial, 0, 'parallel', r0AtS0);
  return r0Outside ? seq(zeroOutput(def), nest) : nest;
}

/** The register tile: accumulator load, reduction, store; a full-tile fast path when tails exist. */
function registerTile(def: ComputeDef, plan: CpuPlan, accumulateIntoOutput: boolean): Stmt {
  const { spatial, reduce } = plan;
  const lets: Stmt[] = spatial.map((a) => ({ k: 'let', name: baseVar(a.name), value: simplify(mul(levelIndex(a, 3), int(a.factors[3]))) }));
  const accShape = spatial.map((a) => a.factors[3]);
  const alloc: Stmt = { k: 'alloc', name: 'acc', shape: accShape, scope: 'local' };
  const tails = spatial.filter((a) => !a.perfect);
  const body = (bounded: boolean) => tileBody(def, plan, accumulateIntoOutput, bounded);
  if (!tails.length) return seq(...lets, alloc, body(false));
  const fits = and(...tails.map((a) => le(add(v(baseVar(a.name)), int(a.factors[3])), int(a.extent))));
  // Tiles that start past the extent (the split's product exceeds it) are skipped: an axis whose
  // level-3 factor is 1 has no S3 loop whose bound could stop them.
  const inRange = and(...tails.map((a) => lt(v(baseVar(a.name)), int(a.extent))));
  return seq(...lets, alloc, { k: 'if', cond: fits, then: body(false), else: { k: 'if', cond: inRange, then: body(true) } });
}

function tileBody(def: ComputeDef, plan: CpuPlan, accumulateIntoOutput: boolean, bounded: boolean): Stmt {
  const { spatial, reduce } = plan;
  // Innermost non-unit spatial level is vectorised; the others keep the definition's order.
  const vectorAxis = [...spatial].reverse().find((a) => a.factors[3] > 1);
  const s3Order = vectorAxis ? [...spatial.filter((a) => a !== vectorAxis), vectorAxis] : spatial;
  const s3Extent = (a: AxisPlan): Expr => bounded
    ? simplify(min(int(a.factors[3]), sub(int(a.extent), v(baseVar(a.name)))))
    : int(a.factors[3]);
  const accIndex = spatial.map((a) => (a.factors[3] > 1 ? v(levelVar(a.name, 3)) : int(0)));
  const outIndex = spatial.map((a) => simplify(add(v(baseVar(a.name)), accIndex[spatial.indexOf(a)])));

  // S3 loops around a statement; with unrolling decided from the innermost loop outward.
  const s3Loops = (inner: Stmt, unroll: boolean): Stmt => {
    let body = inner, product = 1;
    for (const a of [...s3Order].reverse()) {
      if (a.factors[3] <= 1) continue;
      const kind: LoopKind = a === vectorAxis ? 'vector' : 'serial';
      product *= a.factors[3];
      const step = unroll && !bounded && kind !== 'vector' ? unrollFor(plan, product, a.factors[3]) : undefined;
      body = loop(levelVar(a.name, 3), s3Extent(a), kind, body, step);
    }
    return body;
  };

  const init: Expr = accumulateIntoOutput ? load(def.output.name, outIndex) : float(0);
  const initAcc = s3Loops({ k: 'store', tensor: 'acc', index: accIndex, value: init }, false);

  const reduceEnv: Record<string, Expr> = {};
  for (const a of reduce) reduceEnv[a.name] = levelIndex(a, 3);
  const spatialEnv: Record<string, Expr> = {};
  spatial.forEach((a, i) => { spatialEnv[a.name] = outIndex[i]; });
  const value = simplify(substitute(def.body, { ...reduceEnv, ...spatialEnv }));
  let compute = s3Loops({ k: 'store', tensor: 'acc', index: accIndex, value, accumulate: true }, true);

  // Reduce loops inside the tile: R2 innermost (unrolled when asked), then R1, then R0 if kept inside.
  const levels = plan.reorder === 1 ? [2, 1, 0] : [2, 1];
  const s3Product = spatial.reduce((n, a) => n * a.factors[3], 1);
  let unrolledProduct = s3Product;
  for (const level of levels) {
    for (const a of [...reduce].reverse()) {
      const f = a.factors[level];
      const guardTail = level === 2 && !a.perfect;
      if (f <= 1 && !guardTail) continue;
      const extent = guardTail
        ? simplify(min(int(f), sub(int(a.extent), mul(levelIndex(a, 2), int(f)))))
        : int(f);
      let step: number | undefined;
      if (level === 2 && plan.unrollReduce && !guardTail) {
        unrolledProduct *= f;
        step = unrollFor(plan, unrolledProduct, f);
      }
      compute = loop(levelVar(a.name, level), extent, 'serial', compute, step);
    }
  }
  const store = s3Loops({ k: 'store', tensor: def.output.name, index: outIndex, value: { k: 'load', tensor: 'acc', index: accIndex } }, false);
  return seq(initAcc, compute, store);
}

/** TVM's auto_unroll_max_step: unroll while the unrolled body stays within maxStep. */
function unrollFor(plan: CpuPlan, product: number, extent: number): number | undefined {
  if (plan.unrollMaxStep === 0) return undefined;
  if (plan.unrollMaxStep === 1) return 1;
  return product <= plan.unrollMaxStep ? extent : undefined;
}

/** out = 0 before tiles accumulate into it across outer reduce iterations. */
function zeroOutput(def: ComputeDef): Stmt {
  const dims = def.output.shape;
  const index = dims.map((_, i) => v(`z_${i}`));
  let body: Stmt = { k: 'store', tensor: def.output.name, index, value: float(0) };
  for (let i = dims.length - 1; i >= 0; i--) body = loop(`z_${i}`, dims[i], i === 0 ? 'parallel' : i === dims.length - 1 ? 'vector' : 'serial', body);
  return body;
}
