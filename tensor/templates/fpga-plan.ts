// The FPGA template's knobs and the plan a config describes: tiles per axis, the processing-
// element (PE) array, the on-chip tile buffers with their footprints and bank partitioning.
// fpga.ts lowers a plan to the loop nest; fpga-resources.ts and the latency model read it.
//
// Every axis is split in 3 levels, outermost first: [tiles, serial, unroll].
//   tiles  – loop over tiles of the problem; every tile moves its inputs into on-chip buffers
//            (burst transfers) and its output back;
//   serial – loops inside a tile, flattened into one pipelined loop (PIPELINE II = the `ii` knob);
//   unroll – fully unrolled inside the pipeline: the PE array (spatial axes) and adder-tree lanes
//            (reduce axes).
// The buffers are partitioned into banks along every dimension the PE array (or a burst) touches,
// with the partition kind of the `partition` knob and a factor matched to the unroll.
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import { add, forEachExpr, int, mul, simplify, sub, substitute, v, type ArrayPartition, type Expr } from '../ir.ts';
import { affineDifference, evalIndex, FootprintError, interval, toAffine, type Interval } from './fpga-footprint.ts';
import { checkKnobNames, choiceKnob, planAxis, splitKnobNames } from './config-checks.ts';
import type { Config } from './template.ts';

export const FPGA_SPATIAL_PARTS = 3;
export const FPGA_REDUCE_PARTS = 3;
/** 0: reduce loops innermost in the pipeline (the accumulator is updated every iteration, a
 *  loop-carried dependence); 1: spatial loops innermost (updates of one element are a tile apart). */
export const ORDER_ENTITIES = [0, 1];
/** Initiation interval asked of the compute pipeline; above 1 lets HLS share operators. */
export const II_ENTITIES = [1, 2, 4];
/** `partition` knob entities index this list. */
export const PARTITION_KINDS = ['cyclic', 'block', 'complete', 'none'] as const;
export type PartitionKind = (typeof PARTITION_KINDS)[number];
/** Elements moved per cycle by the burst (copy) loops between off-chip memory and the buffers. */
export const BURST_ENTITIES = [1, 2, 4, 8, 16];

export interface FpgaAxis {
  name: string;
  extent: number;
  reduce: boolean;
  tiles: number;
  serial: number;
  unroll: number;
  /** serial * unroll: the axis's extent inside one tile. */
  tile: number;
  perfect: boolean;
}

export interface TileBuffer {
  /** Buffer name in the generated code (`A_buf`). */
  name: string;
  /** The tensor it holds a tile of. */
  tensor: string;
  tensorShape: number[];
  shape: number[];
  /** Banks per dimension (1 = not partitioned along it). */
  banks: number[];
  partition: ArrayPartition[];
  /** Inputs: tensor index of buffer element 0, per dimension (an expression of tile origins). */
  origin: Expr[];
  /** Buffer index the PE array reads (inputs) or accumulates into (output), per dimension, in
   *  serial and unroll variables (and buffer origins where the index is not affine). */
  access: Expr[];
  /** Copy loops must zero-fill below 0 / at or above the tensor extent along this dimension. */
  guardLow: boolean[];
  guardHigh: boolean[];
}

export interface FpgaPlan {
  def: ComputeDef;
  spatial: FpgaAxis[];
  reduce: FpgaAxis[];
  order: number;
  ii: number;
  partition: PartitionKind;
  burst: number;
  inputs: TileBuffer[];
  output: TileBuffer;
}

/** Variable names of an axis in the generated code. */
export const axisVar = {
  tile: (a: string) => `${a}_t`,
  origin: (a: string) => `${a}_o`,
  serial: (a: string) => `${a}_s`,
  unroll: (a: string) => `${a}_u`,
};
export const bufferOriginVar = (buffer: string, dim: number) => `${buffer}_o${dim}`;

/** Tile origin of an axis: a variable bound per tile, or 0 when the axis has one tile. */
export const originExpr = (a: FpgaAxis): Expr => (a.tiles > 1 ? v(axisVar.origin(a.name)) : int(0));

/** Index of an axis inside its tile: serial * unroll + lane. */
export function localExpr(a: FpgaAxis): Expr {
  const s = a.serial > 1 ? mul(v(axisVar.serial(a.name)), int(a.unroll)) : int(0);
  const u = a.unroll > 1 ? v(axisVar.unroll(a.name)) : int(0);
  return simplify(add(s, u));
}

export function knobNames(def: ComputeDef): string[] {
  return [...splitKnobNames(def), 'order', 'ii', 'partition', 'burst'];
}

/** Parse and validate a config; build the buffers. Throws InstantiationError naming the knob. */
export function planFpga(def: ComputeDef, config: Config): FpgaPlan {
  checkKnobNames(def, config, 'fpga', knobNames(def));
  const axis = (a: { name: string; extent: number }, reduce: boolean): FpgaAxis => {
    const { factors: [tiles, serial, unroll], perfect } = planAxis(config, a, reduce ? FPGA_REDUCE_PARTS : FPGA_SPATIAL_PARTS, false);
    return { name: a.name, extent: a.extent, reduce, tiles, serial, unroll, tile: serial * unroll, perfect };
  };
  const order = choiceKnob(config, 'order', ORDER_ENTITIES);
  const ii = choiceKnob(config, 'ii', II_ENTITIES);
  const partitionIndex = choiceKnob(config, 'partition', PARTITION_KINDS.map((_, i) => i));
  const burst = choiceKnob(config, 'burst', BURST_ENTITIES);
  const spatial = def.spatial.map((a) => axis(a, false));
  const reduce = def.reduce.map((a) => axis(a, true));
  const partition = PARTITION_KINDS[partitionIndex];
  const axes = [...spatial, ...reduce];
  try {
    return {
      def, spatial, reduce, order, ii, partition, burst,
      inputs: inputBuffers(def, axes, partition, burst),
      output: outputBuffer(def, spatial, partition, burst),
    };
  } catch (err) {
    if (err instanceof FootprintError) throw new InstantiationError(`fpga: cannot buffer the inputs of ${def.op}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Every load of the body, one index per tensor. */
function loadsOf(def: ComputeDef): Map<string, Expr[]> {
  const loads = new Map<string, Expr[]>();
  forEachExpr(def.body, (e) => {
    if (e.k !== 'load') return;
    const seen = loads.get(e.tensor);
    if (seen && JSON.stringify(seen) !== JSON.stringify(e.index)) {
      throw new FootprintError(`tensor ${e.tensor} is read at two different indices; one tile buffer per tensor holds one footprint`);
    }
    loads.set(e.tensor, e.index);
  });
  return loads;
}

function inputBuffers(def: ComputeDef, axes: FpgaAxis[], kind: PartitionKind, burst: number): TileBuffer[] {
  const loads = loadsOf(def);
  const tileRanges: Record<string, Interval> = {};
  const wholeRanges: Record<string, Interval> = {};
  const laneRanges: Record<string, Interval> = {};
  const globalEnv: Record<string, Expr> = {};
  for (const a of axes) {
    tileRanges[a.name] = { lo: originExpr(a), span: a.tile - 1, nonNegative: true };
    wholeRanges[a.name] = { lo: int(0), span: a.tiles * a.tile - 1, nonNegative: true };
    laneRanges[a.name] = { lo: int(0), span: a.unroll - 1, nonNegative: true };
    globalEnv[a.name] = simplify(add(originExpr(a), localExpr(a)));
  }
  return def.inputs.filter((t) => loads.has(t.name)).map((t) => {
    const index = loads.get(t.name)!;
    const name = `${t.name}_buf`;
    const shape: number[] = [], origin: Expr[] = [], access: Expr[] = [], lanes: number[] = [];
    const guardLow: boolean[] = [], guardHigh: boolean[] = [];
    index.forEach((e, d) => {
      const tile = interval(e, tileRanges);
      shape.push(tile.span + 1);
      origin.push(tile.lo);
      lanes.push(interval(e, laneRanges).span + 1);
      const global = simplify(substitute(e, globalEnv));
      const g = toAffine(global), lo = toAffine(tile.lo);
      access.push(simplify(g && lo ? affineDifference(g, lo) : sub(global, v(bufferOriginVar(name, d)))));
      // Affine footprints: the whole-problem bound is exact, so in-range dimensions skip the guard.
      const whole = interval(e, wholeRanges);
      const wholeLo = evalIndex(simplify(whole.lo), {});
      const affine = lo !== null;
      guardLow.push(!affine || wholeLo < 0);
      guardHigh.push(!affine || wholeLo + whole.span > t.shape[d] - 1);
    });
    return {
      name, tensor: t.name, tensorShape: t.shape, shape, origin, access, guardLow, guardHigh,
      ...partitionOf(shape, lanes, kind, burst),
    };
  });
}

function outputBuffer(def: ComputeDef, spatial: FpgaAxis[], kind: PartitionKind, burst: number): TileBuffer {
  const shape = spatial.map((a) => a.tile);
  return {
    name: `${def.output.name}_buf`, tensor: def.output.name, tensorShape: def.output.shape, shape,
    origin: spatial.map(originExpr), access: spatial.map(localExpr),
    guardLow: spatial.map(() => false), guardHigh: spatial.map((a) => a.tiles * a.tile > a.extent),
    ...partitionOf(shape, spatial.map((a) => a.unroll), kind, burst),
  };
}

/**
 * Banks matched to the unroll: along each dimension, as many banks as the PE array touches
 * distinct indices (so cyclic banks hold one each), and along the innermost dimension at least
 * half the burst width (two ports per bank). `block` uses the same factors with block order,
 * which is what a mismatched partition looks like; `complete` makes every touched dimension
 * registers.
 */
function partitionOf(shape: number[], lanes: number[], kind: PartitionKind, burst: number): { banks: number[]; partition: ArrayPartition[] } {
  const along = burstDim(shape);
  const factors = shape.map((extent, d) => {
    const want = Math.max(lanes[d], d === along ? Math.ceil(burst / 2) : 1);
    return Math.min(extent, want);
  });
  const banks: number[] = [], partition: ArrayPartition[] = [];
  factors.forEach((f, d) => {
    if (kind === 'none' || f <= 1) { banks.push(1); return; }
    if (kind === 'complete') { banks.push(shape[d]); partition.push({ dim: d, type: 'complete' }); return; }
    banks.push(f);
    partition.push({ dim: d, type: kind, factor: f });
  });
  return { banks, partition };
}

/** The dimension burst copies move along: the innermost one longer than 1 (trailing dimensions
 *  of extent 1, such as a 1x1 kernel's, would otherwise make every burst one element long). */
export function burstDim(shape: number[]): number {
  for (let d = shape.length - 1; d > 0; d--) if (shape[d] > 1) return d;
  return 0;
}

/** Bank of a buffer element: per dimension by the partition, combined row-major. */
export function bankOf(buffer: TileBuffer, index: number[]): number {
  let bank = 0;
  index.forEach((i, d) => {
    const p = buffer.partition.find((q) => q.dim === d);
    let b = 0;
    if (p?.type === 'complete') b = i;
    else if (p?.type === 'cyclic') b = i % p.factor!;
    else if (p?.type === 'block') b = Math.floor(i / Math.ceil(buffer.shape[d] / p.factor!));
    bank = bank * buffer.banks[d] + b;
  });
  return bank;
}

/** Elements per bank (the deepest bank). */
export function bankDepth(buffer: TileBuffer): number {
  return buffer.shape.reduce((n, extent, d) => n * Math.ceil(extent / buffer.banks[d]), 1);
}

