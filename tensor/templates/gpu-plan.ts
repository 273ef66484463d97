// The GPU template's plan: the knobs of a config parsed and checked (planGpu), the launch shape,
// shared-memory boxes and accumulator size they imply (gpuGeometry), and the device limits the
// geometry is checked against (checkGeometry). gpu-lower.ts turns a plan into the loop nest.
import { shown } from '../quote.ts';
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import { forEachExpr, int, v, type Expr } from '../ir.ts';
import { checkKnobNames, choiceKnob, planAxis, splitKnobNames, type AxisPlan } from './config-checks.ts';
import { indexInterval, type Interval } from './index-interval.ts';
import { product } from './split.ts';
import type { Config, DeviceLimits } from './template.ts';
import { planUnroll, type UnrollPlan } from './unroll.ts';

export type { AxisPlan } from './config-checks.ts';

export const GPU_SPATIAL_PARTS = 4;
export const GPU_REDUCE_PARTS = 3;
export const GPU_REORDER_ENTITIES = [0, 1, 2];
/** CUDA's dimension names, innermost first. */
export const GPU_DIM_NAMES = ['x', 'y', 'z'] as const;
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
  const groups = Math.min(axes, GPU_DIM_NAMES.length);
  if (groups === 0) return [[]];
  const out: number[][] = [];
  const cut = (left: number, parts: number, acc: number[]): void => {
    if (parts === 1) { out.push([...acc, left]); return; }
    for (let size = 1; size <= left - (parts - 1); size++) cut(left - size, parts - 1, [...acc, size]);
  };
  cut(axes, groups, []);
  return out;
}

export interface GpuPlan extends UnrollPlan {
  spatial: AxisPlan[];
  reduce: AxisPlan[];
  /** Spatial axes per fused group, outermost group first (the last one binds to x). */
  groups: AxisPlan[][];
  reorder: number;
}

/** An input staged in shared memory: its box per dimension and the bounds its loads must check. */
export interface StagedInput {
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

/** Throws InstantiationError naming the first limit the geometry exceeds. */
export function checkGeometry(g: GpuGeometry, limits: GpuLimits): void {
  if (g.threads > limits.maxThreadsPerBlock) {
    throw new InstantiationError(`${g.threads} threads per block (product of the level-2 split factors) exceeds the device limit of ${limits.maxThreadsPerBlock}`);
  }
  g.block.forEach((n, d) => {
    if (n > limits.maxThreadsDim[d]) {
      throw new InstantiationError(`block dimension ${GPU_DIM_NAMES[d]} of ${n} threads (fused level-2 factors) exceeds the device limit of ${limits.maxThreadsDim[d]}`);
    }
  });
  g.grid.forEach((n, d) => {
    if (n > limits.maxGridSize[d]) {
      throw new InstantiationError(`grid dimension ${GPU_DIM_NAMES[d]} of ${n} blocks (fused level-0 factors) exceeds the device limit of ${limits.maxGridSize[d]}`);
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
  checkKnobNames(def, config, 'gpu', [...splitKnobNames(def), 'fuse', 'reorder', 'unroll']);
  const spatial = def.spatial.map((a) => planAxis(config, a, GPU_SPATIAL_PARTS, false));
  const reduce = def.reduce.map((a) => planAxis(config, a, GPU_REDUCE_PARTS, false));

  const fuse = config.fuse;
  const fuses = fuseEntities(spatial.length);
  if (!Array.isArray(fuse) || !fuses.some((f) => f.length === fuse.length && f.every((x, i) => x === fuse[i]))) {
    throw new InstantiationError(`knob 'fuse' must be one of ${JSON.stringify(fuses)} (group sizes of the spatial axes), got ${shown(fuse)}`);
  }
  const groups: AxisPlan[][] = [];
  let next = 0;
  for (const size of fuse) { groups.push(spatial.slice(next, next + size)); next += size; }

  const reorder = choiceKnob(config, 'reorder', GPU_REORDER_ENTITIES);
  return { spatial, reduce, groups, reorder, ...planUnroll(config) };
}

/** Points of one block along a spatial axis (levels 1-3) or of one R0 step along a reduce axis (levels 1-2). */
export const blockTile = (a: AxisPlan) => product(a.factors.slice(1));
/** The variable holding a block's first index along an axis. */
export const baseVar = (axis: string) => `${axis}_base`;

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
function loadsByTensor(e: Expr): Map<string, Expr[][]> {
  const out = new Map<string, Expr[][]>();
  forEachExpr(e, (x) => { if (x.k === 'load') out.set(x.tensor, [...(out.get(x.tensor) ?? []), x.index]); });
  return out;
}

