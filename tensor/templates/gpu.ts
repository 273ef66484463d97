// FlexTensor's GPU template: every spatial axis split in 4 levels bound to block, virtual thread,
// thread and a per-thread serial tile; every reduce axis split in 3 levels.
//
//   __shared__ one tile ("box") per input
//   blockIdx.{z,y,x}  ← level-0 factors, fused per `fuse` group (innermost group → x)
//   threadIdx.{z,y,x} ← level-2 factors, fused the same way
//     acc[vthread × inner tile] = 0                       registers
//     for R0 (outer reduce level of every reduce axis):
//       every input's box loaded cooperatively by all threads of the block; __syncthreads()
//       R1 { reorder 0: R2 V S3 | 1: V R2 S3 | 2: V S3 R2 }   acc += body, inputs read from shared
//       __syncthreads()
//     out ← acc                                          guarded where a split is imperfect
//
// A thread computes f1 × f3 points per spatial axis: its vthreads (level 1) are f2·f3 apart, as
// TVM's virtual threads are, and its inner tile (level 3) is contiguous. A box is the part of an
// input one block reads during one R0 step, bounded by interval arithmetic on the load's indices
// (index-interval.ts); an input whose indices cannot be bounded is read from global memory, with
// the computation then guarded on the tails. Validity (threads, block and grid dimensions, shared
// memory, an accumulator that fits in registers) is checked against the device's limits.
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import {
  add, and, float, ge, int, load, loop, lt, min, mul, select, seq, simplify, sub, substitute, v,
  type Expr, type LoopKind, type Stmt,
} from '../ir.ts';
import { UNROLL_ENTITIES } from './cpu.ts';
import { indexInterval, type Interval } from './index-interval.ts';
import { isPerfect, splitKnobs } from './split.ts';
import { checkKnobNames, splitFactors } from './config-checks.ts';
import type { Config, DeviceLimits, Knob, Template, TemplateOptions } from './template.ts';

export const GPU_SPATIAL_PARTS = 4;
export const GPU_REDUCE_PARTS = 3;
export const GPU_REORDER_ENTITIES = [0, 1, 2];
const DIM_NAMES = ['x', 'y', 'z'] as const;
const FLOAT_BYTES = 4;

/** The GPU limits a config is checked against (DeviceLimits with every GPU field present). */
// A type alias, not an interface, so that it is assignable to DeviceLimits' index signature.
export type GpuLimits = {
  maxThreadsPerBlock: number;
  maxThreadsDim: [number, number, number];
  maxGridSize: [number, number, number];
  /** Static shared memory per block, bytes. */
  maxSharedMemoryPerBlock: number;
  /** The accumulator alone must fit in this many 32-bit registers. */
  maxRegistersPerThread: number;
};

/** Limits every NVIDIA GPU since compute capability 3.0 offers; used for a limit a device leaves out. */
export const DEFAULT_GPU_LIMITS: GpuLimits = {
  maxThreadsPerBlock: 1024,
  maxThreadsDim: [1024, 1024, 64],
  maxGridSize: [2 ** 31 - 1, 65535, 65535],
  maxSharedMemoryPerBlock: 48 * 1024,
  maxRegistersPerThread: 255,
};

export function gpuLimits(limits: DeviceLimits): GpuLimits {
  const d = DEFAULT_GPU_LIMITS;
  return {
    maxThreadsPerBlock: limits.maxThreadsPerBlock ?? d.maxThreadsPerBlock,
    maxThreadsDim: limits.maxThreadsDim ?? d.maxThreadsDim,
    maxGridSize: (limits.maxGridSize as [number, number, number] | undefined) ?? d.maxGridSize,
    maxSharedMemoryPerBlock: limits.maxSharedMemoryPerBlock ?? d.maxSharedMemoryPerBlock,
    maxRegistersPerThread: limits.maxRegistersPerThread ?? d.maxRegistersPerThread,
  };
}

/** FlexTensor's fuse sub-space: the spatial axes cut into min(n, 3) contiguous groups (group sizes). */
export function fuseEntities(axes: number): number[][] {
  const groups = Math.min(axes, DIM_NAMES.length);
  if (groups === 0) return [[]];
  const out: number[][] = [];
  const cut = (left: number, parts: number, acc: number[]): void => {
    if (parts === 1) { out.push([...acc, left]); return; }
    for (let size = 1; size <= left - (parts - 1); size++) cut(left - size, parts - 1, [...acc, size]);
  };
  cut(axes, groups, []);
  return out;
}

interface AxisPlan { name: string; extent: number; factors: number[]; perfect: boolean }
export interface GpuPlan {
  spatial: AxisPlan[];
  reduce: AxisPlan[];
  /** Spatial axes per fused group, outermost group first (the last one binds to x). */
  groups: AxisPlan[][];
  reorder: number;
  unrollMaxStep: number;
  unrollReduce: boolean;
}

/** An input staged in shared memory: its box per dimension and the bounds its loads must check. */
interface StagedInput {
  tensor: string;
  shape: number[];
  /** The load's index expressions, in the definition's variables. */
  index: Expr[];
  /** Per dimension: lower end (an expression of the block's base indices) and constant length. */
  box: Interval[];
  /** Per dimension: whether a box element can fall below 0 / at or beyond the tensor's extent. */
  guardLow: boolean[];
  guardHigh: boolean[];
  /** Per dimension, for affine indices: the box's lower end minus the index at the block's base
   *  point, a constant; the box offset is then the index of the point's offset within the block. */
  offset: (number | null)[];
}

export interface GpuGeometry {
  /** Blocks and threads per dimension, [x, y, z]. */
  grid: [number, number, number];
  block: [number, number, number];
  threads: number;
  sharedBytes: number;
  accumulatorFloats: number;
  staged: StagedInput[];
  /** Inputs read from global memory (indices the interval analysis cannot bound). */
  unstaged: string[];
}

export const gpuTemplate: Template = {
  target: 'gpu',
  knobs(def: ComputeDef, options: TemplateOptions = {}): Knob[] {
    const exact = options.exactSplits ?? false;
    return [
      ...splitKnobs(def, GPU_SPATIAL_PARTS, GPU_REDUCE_PARTS, exact),
      { name: 'fuse', kind: 'choice', entities: fuseEntities(def.spatial.length) },
      { name: 'reorder', kind: 'choice', entities: GPU_REORDER_ENTITIES },
      { name: 'unroll', kind: 'choice', entities: UNROLL_ENTITIES },
    ];
  },
  check(def: ComputeDef, config: Config, limits: DeviceLimits): void {
    checkGeometry(gpuGeometry(def, planGpu(def, config)), gpuLimits(limits));
  },
  lower(def: ComputeDef, config: Config): Stmt {
    const plan = planGpu(def, config);
    return lowerGpu(def, plan, gpuGeometry(def, plan));
  },
};

/** Throws InstantiationError naming the first limit the geometry exceeds. */
export function checkGeometry(g: GpuGeometry, limits: GpuLimits): void {
  if (g.threads > limits.maxThreadsPerBlock) {
    throw new InstantiationError(`${g.threads} threads per block (product of the level-2 split factors) exceeds the device limit of ${limits.maxThreadsPerBlock}`);
  }
  g.block.forEach((n, d) => {
    if (n > limits.maxThreadsDim[d]) {
      throw new InstantiationError(`block dimension ${DIM_NAMES[d]} of ${n} threads (fused level-2 factors) exceeds the device limit of ${limits.maxThreadsDim[d]}`);
    }
  });
  g.grid.forEach((n, d) => {
    if (n > limits.maxGridSize[d]) {
      throw new InstantiationError(`grid dimension ${DIM_NAMES[d]} of ${n} blocks (fused level-0 factors) exceeds the device limit of ${limits.maxGridSize[d]}`);
    }
  });
  if (g.sharedBytes > limits.maxSharedMemoryPerBlock) {
    const tiles = g.staged.map((s) => `${s.tensor}[${s.box.map((b) => b.extent).join('x')}]`).join(' + ');
    throw new InstantiationError(`shared memory of ${g.sharedBytes} bytes per block (${tiles} floats) exceeds the device limit of ${limits.maxSharedMemoryPerBlock}`);
  }
  if (g.accumulatorFloats > limits.maxRegistersPerThread) {
    throw new InstantiationError(`accumulator of ${g.accumulatorFloats} floats per thread (level-1 x level-3 factors) exceeds ${limits.maxRegistersPerThread} registers per thread`);
  }
}

/** Parse and validate a config: every knob present and inside its sub-space. */
export function planGpu(def: ComputeDef, config: Config): GpuPlan {
  checkKnobNames(def, config, 'gpu', [...def.spatial, ...def.reduce].map((a) => `split.${a.name}`).concat(['fuse', 'reorder', 'unroll']));
  const axis = (a: { name: string; extent: number }, parts: number): AxisPlan => {
    const factors = splitFactors(config, a, parts);
    return { name: a.name, extent: a.extent, factors, perfect: isPerfect(factors, a.extent) };
  };
  const spatial = def.spatial.map((a) => axis(a, GPU_SPATIAL_PARTS));
  const reduce = def.reduce.map((a) => axis(a, GPU_REDUCE_PARTS));

  const fuse = config.fuse;
  const fuses = fuseEntities(spatial.length);
  if (!Array.isArray(fuse) || !fuses.some((f) => f.length === fuse.length && f.every((x, i) => x === fuse[i]))) {
    throw new InstantiationError(`knob 'fuse' must be one of ${JSON.stringify(fuses)} (group sizes of the spatial axes), got ${JSON.stringify(fuse)}`);
  }
  const groups: AxisPlan[][] = [];
  let next = 0;
  for (const size of fuse) { groups.push(spatial.slice(next, next + size)); next += size; }

  const reorder = config.reorder;
  if (typeof reorder !== 'number' || !GPU_REORDER_ENTITIES.includes(reorder)) {
    throw new InstantiationError(`knob 'reorder' must be one of ${GPU_REORDER_ENTITIES.join(', ')}, got ${JSON.stringify(reorder)}`);
  }
  const unroll = config.unroll;
  if (!Array.isArray(unroll) || unroll.length !== 2 || !UNROLL_ENTITIES.some((u) => u[0] === unroll[0] && u[1] === unroll[1])) {
    throw new InstantiationError(`knob 'unroll' must be one of ${JSON.stringify(UNROLL_ENTITIES)}, got ${JSON.stringify(unroll)}`);
  }
  return { spatial, reduce, groups, reorder, unrollMaxStep: unroll[0], unrollReduce: unroll[1] === 1 };
}

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
/** Points of one block along a spatial axis (levels 1-3) or of one R0 step along a reduce axis (levels 1-2). */
const blockTile = (a: AxisPlan) => product(a.factors.slice(1));
const levelVar = (axis: string, level: number) => `${axis}_${level}`;
const baseVar = (axis: string) => `${axis}_base`;
const threadBaseVar = (axis: string) => `${axis}_t`;
const sharedName = (tensor: string) => `${tensor}_sh`;
const boxLoVar = (tensor: string, dim: number) => `${tensor}_lo${dim}`;
/** A level's loop variable, or 0 when the level has a single iteration (no loop is emitted). */
const level = (a: AxisPlan, l: number): Expr => (a.factors[l] > 1 ? v(levelVar(a.name, l)) : int(0));

/** Launch shape, shared tiles and accumulator size of a plan. */
export function gpuGeometry(def: ComputeDef, plan: GpuPlan): GpuGeometry {
  const grid: [number, number, number] = [1, 1, 1], block: [number, number, number] = [1, 1, 1];
  plan.groups.forEach((group, j) => {
    const d = plan.groups.length - 1 - j;
    grid[d] = product(group.map((a) => a.factors[0]));
    block[d] = product(group.map((a) => a.factors[2]));
  });
  const blockVars: Record<string, Interval> = {}, globalVars: Record<string, Interval> = {}, localVars: Record<string, Interval> = {};
  for (const a of [...plan.spatial, ...plan.reduce]) {
    blockVars[a.name] = { lo: v(baseVar(a.name)), extent: blockTile(a), exact: true };
    globalVars[a.name] = { lo: int(0), extent: product(a.factors), exact: true };
    localVars[a.name] = { lo: int(0), extent: blockTile(a), exact: true };
  }
  const loads = loadsByTensor(def.body);
  const staged: StagedInput[] = [], unstaged: string[] = [];
  for (const t of def.inputs) {
    const uses = loads.get(t.name) ?? [];
    const same = uses.every((u) => JSON.stringify(u) === JSON.stringify(uses[0]));
    const box = same && uses.length ? uses[0].map((e) => indexInterval(e, blockVars)) : [null];
    const whole = same && uses.length ? uses[0].map((e) => indexInterval(e, globalVars)) : [null];
    if (box.some((b) => !b) || whole.some((b) => !b)) { unstaged.push(t.name); continue; }
    const boxes = box as Interval[], wholes = whole as Interval[];
    // Affine indices: the box never leaves the range of the whole iteration space, so bounds the
    // whole range respects need no check. Otherwise (div/mod) every bound is checked.
    const known = (i: number): number | null => {
      const lo = wholes[i].lo;
      return boxes[i].exact && lo.k === 'int' ? lo.v : null;
    };
    staged.push({
      tensor: t.name, shape: t.shape, index: uses[0], box: boxes,
      guardLow: boxes.map((_, i) => { const lo = known(i); return lo === null || lo < 0; }),
      guardHigh: boxes.map((_, i) => { const lo = known(i); return lo === null || lo + wholes[i].extent > t.shape[i]; }),
      offset: uses[0].map((e, i) => {
        const local = boxes[i].exact ? indexInterval(e, localVars) : null;
        return local && local.lo.k === 'int' ? local.lo.v : null;
      }),
    });
  }
  const sharedFloats = staged.reduce((n, s) => n + product(s.box.map((b) => b.extent)), 0);
  return {
    grid, block, threads: product(block), sharedBytes: sharedFloats * FLOAT_BYTES,
    accumulatorFloats: product(plan.spatial.map((a) => a.factors[1] * a.factors[3])),
    staged, unstaged,
  };
}

/** Index lists of every load, by tensor. */
function loadsByTensor(e: Expr, out = new Map<string, Expr[][]>()): Map<string, Expr[][]> {
  switch (e.k) {
    case 'load': {
      const list = out.get(e.tensor) ?? [];
      list.push(e.index);
      out.set(e.tensor, list);
      e.index.forEach((i) => loadsByTensor(i, out));
      break;
    }
    case 'bin': case 'cmp': loadsByTensor(e.a, out); loadsByTensor(e.b, out); break;
    case 'and': e.terms.forEach((t) => loadsByTensor(t, out)); break;
    case 'select': loadsByTensor(e.cond, out); loadsByTensor(e.a, out); loadsByTensor(e.b, out); break;
    default: break;
  }
  return out;
}

/** Replace every load by `f(load)`. */
function mapLoads(e: Expr, f: (l: Extract<Expr, { k: 'load' }>) => Expr): Expr {
  switch (e.k) {
    case 'load': return f(e);
    case 'bin': case 'cmp': return { ...e, a: mapLoads(e.a, f), b: mapLoads(e.b, f) };
    case 'and': return { k: 'and', terms: e.terms.map((t) => mapLoads(t, f)) };
    case 'select': return { k: 'select', cond: mapLoads(e.cond, f), a: mapLoads(e.a, f), b: mapLoads(e.b, f) };
    default: return e;
  }
}

function lowerGpu(def: ComputeDef, plan: GpuPlan, geo: GpuGeometry): Stmt {
  const { spatial, reduce, groups } = plan;
  const dimOf = (j: number) => DIM_NAMES[groups.length - 1 - j];
  const lets: Stmt[] = [];
  const let_ = (name: string, value: Expr) => lets.push({ k: 'let', name, value: simplify(value) });

  // Block and thread indices → the level-0 and level-2 index of every axis of their group.
  groups.forEach((group, j) => {
    for (const l of [0, 2]) {
      const index = v(`${l === 0 ? 'blk' : 'thr'}_${dimOf(j)}`);
      let stride = 1;
      for (const a of [...group].reverse()) {
        const f = a.factors[l];
        if (f > 1) {
          const q = stride === 1 ? index : { k: 'bin', op: '/', a: index, b: int(stride) } as Expr;
          let_(levelVar(a.name, l), stride * f === product(group.map((x) => x.factors[l])) ? q : { k: 'bin', op: '%', a: q, b: int(f) });
        }
        stride *= f;
      }
    }
  });
  for (const a of spatial) {
    let_(baseVar(a.name), mul(level(a, 0), int(blockTile(a))));
    let_(threadBaseVar(a.name), add(v(baseVar(a.name)), mul(level(a, 2), int(a.factors[3]))));
  }
  // The thread's rank in its block (x fastest), for the cooperative loads.
  let tid: Expr = int(0);
  groups.forEach((_, j) => {
    const d = DIM_NAMES.indexOf(dimOf(j));
    if (geo.block[d] > 1) tid = add(tid, mul(v(`thr_${dimOf(j)}`), int(product(geo.block.slice(0, d)))));
  });
  if (geo.threads > 1) let_('tid', tid);

  // Where a spatial point and a reduce point are, from the loop variables.
  const env: Record<string, Expr> = {};
  for (const a of spatial) {
    env[a.name] = simplify(add(add(v(threadBaseVar(a.name)), mul(level(a, 1), int(a.factors[2] * a.factors[3]))), level(a, 3)));
  }
  for (const r of reduce) env[r.name] = simplify(add(add(v(baseVar(r.name)), mul(level(r, 1), int(r.factors[2]))), level(r, 2)));

  const accIndex = spatial.flatMap((a) => [level(a, 1), level(a, 3)]);
  const accShape = spatial.flatMap((a) => [a.factors[1], a.factors[3]]);
  const outIndex = spatial.map((a) => env[a.name]);
  const inRange = and(...spatial.filter((a) => !a.perfect).map((a) => lt(env[a.name], int(a.extent))));
  const hasTails = spatial.some((a) => !a.perfect);

  const unrollFor = (product: number, extent: number): number | undefined => {
    if (plan.unrollMaxStep === 0) return undefined;
    if (plan.unrollMaxStep === 1) return 1;
    return product <= plan.unrollMaxStep ? extent : undefined;
  };
  /** Vthread and inner-tile loops (or one of them) around a statement, unrolled by the knob. */
  const tileLoops = (inner: Stmt, which: 'V' | 'I' | 'VI', counter = { product: 1 }): Stmt => {
    let body = inner;
    if (which !== 'V') {
      for (const a of [...spatial].reverse()) {
        if (a.factors[3] <= 1) continue;
        counter.product *= a.factors[3];
        body = loop(levelVar(a.name, 3), a.factors[3], 'serial', body, unrollFor(counter.product, a.factors[3]));
      }
    }
    if (which !== 'I') {
      for (const a of [...spatial].reverse()) {
        if (a.factors[1] <= 1) continue;
        counter.product *= a.factors[1];
        body = loop(levelVar(a.name, 1), a.factors[1], 'vthread', body, a.factors[1]);
      }
    }
    return body;
  };

  // The update, inputs read from their shared boxes. An affine index is taken relative to the
  // block (the point's offset within the block tile) so that the block's base cancels out.
  const local: Record<string, Expr> = {};
  for (const a of spatial) local[a.name] = simplify(add(mul(add(mul(level(a, 1), int(a.factors[2])), level(a, 2)), int(a.factors[3])), level(a, 3)));
  for (const r of reduce) local[r.name] = simplify(add(mul(level(r, 1), int(r.factors[2])), level(r, 2)));
  const staged = new Map(geo.staged.map((s) => [s.tensor, s]));
  const fromShared = mapLoads(withoutImpliedGuards(def.body, staged), (l) => {
    const s = staged.get(l.tensor);
    if (!s) return load(l.tensor, l.index.map((e) => substitute(e, env)));
    return load(sharedName(s.tensor), l.index.map((e, d) => {
      const offset = s.offset[d];
      return offset === null ? sub(substitute(e, env), v(boxLoVar(s.tensor, d))) : sub(substitute(e, local), int(offset));
    }));
  });
  let update: Stmt = { k: 'store', tensor: 'acc', index: accIndex, value: simplify(substitute(fromShared, env)), accumulate: true };
  // Inputs read from global memory must not be read past a tail.
  if (geo.unstaged.length && hasTails) update = { k: 'if', cond: inRange, then: update };

  const r2Loops = (inner: Stmt, counter: { product: number }): Stmt => {
    let body = inner;
    for (const r of [...reduce].reverse()) {
      const f = r.factors[2];
      if (f <= 1 && r.perfect) continue;
      // Imperfect split: the last R0 step stops at the extent (a negative count skips the loop).
      const extent = r.perfect ? int(f) : simplify(min(int(f), sub(int(r.extent), add(v(baseVar(r.name)), mul(level(r, 1), int(f))))));
      let step: number | undefined;
      if (r.perfect && plan.unrollReduce) { counter.product *= f; step = unrollFor(counter.product, f); }
      body = loop(levelVar(r.name, 2), extent, 'serial', body, step);
    }
    return body;
  };
  const counter = { product: 1 };
  let compute: Stmt;
  switch (plan.reorder) {
    case 0: compute = r2Loops(tileLoops(update, 'VI', counter), counter); break;
    case 1: compute = tileLoops(r2Loops(tileLoops(update, 'I', counter), counter), 'V', counter); break;
    default: compute = tileLoops(r2Loops(update, counter), 'VI', counter); break;
  }
  for (const r of [...reduce].reverse()) {
    if (r.factors[1] > 1) compute = loop(levelVar(r.name, 1), r.factors[1], 'serial', compute);
  }

  // One R0 step: the reduce bases, the boxes' lower ends, cooperative loads, barrier, compute.
  const step: Stmt[] = reduce.map((r) => ({ k: 'let', name: baseVar(r.name), value: simplify(mul(level(r, 0), int(blockTile(r)))) }));
  for (const s of geo.staged) s.box.forEach((b, d) => step.push({ k: 'let', name: boxLoVar(s.tensor, d), value: b.lo }));
  for (const s of geo.staged) step.push(cooperativeLoad(s, geo.threads));
  const hasR0 = reduce.some((r) => r.factors[0] > 1);
  if (geo.staged.length) step.push({ k: 'barrier' });
  step.push(compute);
  if (geo.staged.length && hasR0) step.push({ k: 'barrier' });
  let reduction: Stmt = seq(...step);
  for (const r of [...reduce].reverse()) {
    if (r.factors[0] > 1) reduction = loop(levelVar(r.name, 0), r.factors[0], 'serial', reduction);
  }

  const init = tileLoops({ k: 'store', tensor: 'acc', index: accIndex, value: float(0) }, 'VI');
  let write: Stmt = { k: 'store', tensor: def.output.name, index: outIndex, value: load('acc', accIndex) };
  if (hasTails) write = { k: 'if', cond: inRange, then: write };
  const perThread = seq(
    ...lets,
    { k: 'alloc', name: 'acc', shape: accShape, scope: 'local' },
    init, reduction, tileLoops(write, 'VI'),
  );

  // Thread loops inside block loops, z outermost; each binds one hardware index (none for a
  // dimension of extent 1, whose index is always 0 and is not read).
  let nest: Stmt = perThread;
  for (const prefix of ['thr', 'blk'] as const) {
    for (let j = groups.length - 1; j >= 0; j--) {
      const d = DIM_NAMES.indexOf(dimOf(j));
      const extent = (prefix === 'thr' ? geo.block : geo.grid)[d];
      const kind = `${prefix === 'thr' ? 'thread' : 'block'}.${dimOf(j)}` as LoopKind;
      if (extent > 1) nest = loop(`${prefix}_${dimOf(j)}`, extent, kind, nest);
    }
  }
  const shared: Stmt[] = geo.staged.map((s) => ({ k: 'alloc', name: sharedName(s.tensor), shape: s.box.map((b) => b.extent), scope: 'shared' }));
  return seq(...shared, nest);
}

/**
 * A load guarded by its own bounds, select(0 <= i < extent, T[i], 0), needs no guard once T is
 * staged: the box holds zeros outside the tensor. Other guard terms (strides of transposed
 * convolutions) stay.
 */
function withoutImpliedGuards(e: Expr, staged: Map<string, StagedInput>): Expr {
  switch (e.k) {
    case 'select': {
      const value = e.a;
      if (value.k === 'load' && staged.has(value.tensor) && e.b.k === 'float' && e.b.v === 0) {
        const shape = staged.get(value.tensor)!.shape;
        const same = (a: Expr, b: Expr) => JSON.stringify(a) === JSON.stringify(b);
        const implied = (t: Expr) => t.k === 'cmp' && value.index.some((idx, d) =>
          same(t.a, idx) && ((t.op === '>=' && t.b.k === 'int' && t.b.v === 0) || (t.op === '<' && t.b.k === 'int' && t.b.v === shape[d])));
        const terms = (e.cond.k === 'and' ? e.cond.terms : [e.cond]).filter((t) => !implied(t));
        return terms.length ? { ...e, cond: and(...terms) } : value;
      }
      return { k: 'select', cond: withoutImpliedGuards(e.cond, staged), a: withoutImpliedGuards(e.a, staged), b: withoutImpliedGuards(e.b, staged) };
    }
    case 'bin': case 'cmp': return { ...e, a: withoutImpliedGuards(e.a, staged), b: withoutImpliedGuards(e.b, staged) };
    case 'and': return { k: 'and', terms: e.terms.map((t) => withoutImpliedGuards(t, staged)) };
    default: return e;
  }
}

/** All threads of the block copy the box: thread `tid` takes elements tid, tid + threads, … */
function cooperativeLoad(s: StagedInput, threads: number): Stmt {
  const extents = s.box.map((b) => b.extent);
  const size = product(extents);
  const e = v(`${s.tensor}_e`);
  const coords = extents.map((_, d) => {
    const inner = product(extents.slice(d + 1));
    const q: Expr = inner === 1 ? e : { k: 'bin', op: '/', a: e, b: int(inner) };
    return simplify(d === 0 ? q : { k: 'bin', op: '%', a: q, b: int(extents[d]) });
  });
  const global = coords.map((c, d) => simplify(add(v(boxLoVar(s.tensor, d)), c)));
  const bounds: Expr[] = [];
  global.forEach((g, d) => {
    if (s.guardLow[d]) bounds.push(ge(g, int(0)));
    if (s.guardHigh[d]) bounds.push(lt(g, int(s.shape[d])));
  });
  const value = load(s.tensor, global);
  const copy: Stmt = { k: 'store', tensor: sharedName(s.tensor), index: coords, value: bounds.length ? select(and(...bounds), value, float(0)) : value };
  const rounds = Math.ceil(size / threads);
  const tid = threads > 1 ? v('tid') : int(0);
  const body = seq(
    { k: 'let', name: `${s.tensor}_e`, value: simplify(add(mul(v(`${s.tensor}_j`), int(threads)), tid)) },
    size % threads === 0 ? copy : { k: 'if', cond: lt(e, int(size)), then: copy },
  );
  return rounds === 1 ? seq(...substituteLoopVar(body, `${s.tensor}_j`)) : loop(`${s.tensor}_j`, rounds, 'serial', body);
}

/** A one-round copy needs no loop: its round variable is 0. */
function substituteLoopVar(body: Stmt, name: string): Stmt[] {
  if (body.k !== 'seq') return [body];
  return body.body.map((s) => (s.k === 'let' ? { ...s, value: simplify(substitute(s.value, { [name]: int(0) })) } : s));
}
