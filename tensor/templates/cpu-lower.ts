// Lowering a checked CPU plan to the loop nest (the structure is drawn in cpu.ts).
import type { ComputeDef } from '../compute.ts';
import {
  add, and, float, int, le, load, loop, lt, mapExpr, min, mul, select, seq, simplify, sub, substitute, v,
  type Expr, type LoopKind, type Stmt,
} from '../ir.ts';
import { dependsOn } from '../affine.ts';
import { dimIndexedBy, guardedLoads, readStaged, type StagePlan } from './cpu-layout.ts';
import { levelVar, parallelAxes, type AxisPlan, type CpuPlan } from './cpu-plan.ts';
import { packNest, packPlan, readPacked, stageBuffer, stagedName, stageNest, tileWindow, type DimWindow } from './cpu-stages.ts';
import { bufferedTile, bufferIndex, buffersOutput, outputBufferAlloc, outputBufferName, tileOrder } from './cpu-output-buffer.ts';
import { unrollStep } from './unroll.ts';

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

export function lowerCpu(def: ComputeDef, plan: CpuPlan): Stmt {
  const { spatial, reduce } = plan;
  const r0Outside = plan.reorder !== 1 && reduce.some((a) => a.factors[0] > 1);
  const loops = (axes: AxisPlan[], level: number, kind: LoopKind, body: Stmt): Stmt =>
    axes.filter((a) => a.factors[level] > 1).reduceRight((inner, a) => loop(levelVar(a.name, level), a.factors[level], kind, inner), body);

  const buffered = buffersOutput(plan, r0Outside);
  const inTile = inTileStages(def, plan);
  const tile = registerTile(def, plan, { accumulateIntoOutput: r0Outside, buffered, body: scheduledBody(def, plan, inTile) });
  const s2 = loops(spatial, 2, 'serial', tile);
  const r0AtS1 = plan.reorder === 0 ? loops(reduce, 0, 'serial', s2) : s2;
  const s1 = loops(spatial, 1, 'serial', r0AtS1);
  const r0AtS0 = plan.reorder === 2 ? loops(reduce, 0, 'serial', s1) : s1;
  // Inputs padded inside the tiles: the parallel loops run along the axes whose slices the tiles
  // pad (the other level-0 loops go serial inside them, so that no two tiles pad one slice).
  const sliced = parallelAxes(plan);
  const fills = inTile.flatMap(({ stage, window, tileShape }) => [
    ...(tileShape ? [stageBuffer(stage, tileShape)] : []),
    stageNest(def, stage, window, tileShape !== undefined),
  ]);
  const serial = loops(spatial.filter((a) => !sliced.includes(a)), 0, 'serial', r0AtS0);
  const inner = buffered ? bufferedTile(def, plan, sliced, serial) : serial;
  const nest = loops(sliced, 0, 'parallel', fills.length ? seq(...fills, inner) : inner);
  const packs = packPlans(def, plan).map((p) => packNest(def, p));
  const stages = plan.staged.flatMap((s) => {
    const own = inTile.find((t) => t.stage === s);
    return own ? (own.tileShape ? [] : [stageBuffer(s)]) : [stageNest(def, s)];
  });
  const accumulator = buffered ? [outputBufferAlloc(def, plan)] : r0Outside ? [zeroOutput(def)] : [];
  const prologue = [...packs, ...stages, ...accumulator];
  return prologue.length ? seq(...prologue, nest) : nest;
}

/** Largest padded slice (bytes) a parallel tile keeps in a buffer of its own, on its stack:
 *  refilled by each tile, it stays in cache, where a slice of one buffer the size of the whole
 *  padded input goes to memory the caches have not held since the last run (depthwise
 *  mobilenet's searched config: 110 → 68 µs). Larger slices keep the whole buffer, off the
 *  threads' stacks. */
const TILE_STAGE_BYTES = 128 * 1024;

interface InTileStage {
  stage: StagePlan;
  /** The slice one parallel tile pads: per dimension, its window, or null (the whole dimension). */
  window: (DimWindow | null)[];
  /** The tile's own buffer, when the slice is small enough; else undefined (the whole buffer). */
  tileShape?: number[];
}

/** The inputs each parallel tile pads for itself, and the slice it pads: along each axis it is
 *  parallel in, the dimension that axis indexes on its own, from the tile's start (the last tile
 *  may be short). */
function inTileStages(def: ComputeDef, plan: CpuPlan): InTileStage[] {
  const parallel = parallelAxes(plan).filter((a) => a.factors[0] > 1);
  return plan.staged.filter((s) => plan.inTile.has(s.tensor)).map((stage) => {
    const site = guardedLoads(def.body).find((l) => l.load.tensor === stage.tensor)!;
    const window: (DimWindow | null)[] = stage.shape.map(() => null);
    const tileShape = [...stage.shape];
    for (const a of parallel) {
      const d = dimIndexedBy(site.load, a.name);
      window[d] = tileWindow(a, levelVar(a.name, 0));
      tileShape[d] = a.factors[1] * a.factors[2] * a.factors[3];
    }
    const small = 4 * tileShape.reduce((n, x) => n * x, 1) <= TILE_STAGE_BYTES && window.some((w) => w !== null);
    return { stage, window, tileShape: small ? tileShape : undefined };
  });
}

/** Reads of a tile's own stage buffer are relative to its slice's start. */
function readTileStages(e: Expr, stages: InTileStage[]): Expr {
  const own = stages.filter((s) => s.tileShape);
  if (!own.length) return e;
  return mapExpr(e, (x) => {
    const s = x.k === 'load' ? own.find((o) => stagedName(o.stage.tensor) === x.tensor) : undefined;
    if (!s || x.k !== 'load') return x;
    return { ...x, index: x.index.map((i, d) => (s.window[d] ? simplify(sub(i, s.window[d]!.offset)) : i)) };
  });
}

/** Packed inputs are blocked by the vector axis's level-3 factor: one block per register tile. */
const packPlans = (def: ComputeDef, plan: CpuPlan) =>
  plan.vectorAxis ? plan.packed.map((t) => packPlan(def, t, plan.vectorAxis!.name, plan.vectorAxis!.factors[3])) : [];

/** The body as the tile reads it: staged inputs without guards, packed inputs in blocks. */
function scheduledBody(def: ComputeDef, plan: CpuPlan, inTile: InTileStage[]): Expr {
  const staged = readTileStages(readStaged(def.body, plan.staged, stagedName), inTile);
  const axis = plan.vectorAxis;
  if (!axis || !plan.packed.length) return staged;
  const lane = axis.factors[3] > 1 ? v(levelVar(axis.name, 3)) : int(0);
  return readPacked(staged, packPlans(def, plan), levelIndex(axis, 3), lane);
}

/** How a tile starts and ends: from zero, or adding to the output (across outer reduce
 *  iterations), in the output itself or in the output buffer (cpu-output-buffer.ts). */
interface Accumulation {
  accumulateIntoOutput: boolean;
  buffered: boolean;
  /** The body as every path of the tile reads it (scheduledBody), built once per nest. */
  body: Expr;
}

/** The register tile: accumulator load, reduction, store; a full-tile fast path when tails exist. */
function registerTile(def: ComputeDef, plan: CpuPlan, accumulation: Accumulation): Stmt {
  const { spatial } = plan;
  const lets: Stmt[] = spatial.map((a) => ({ k: 'let', name: baseVar(a.name), value: simplify(mul(levelIndex(a, 3), int(a.factors[3]))) }));
  // The accumulator is laid out in the tile's loop order: lanes of the vector axis contiguous.
  // Each path declares its own: one variable-indexed access anywhere (a bounded tail loop) keeps
  // GCC from holding an array in registers at all, in every path that uses it.
  const withAcc = (body: Stmt): Stmt => seq({ k: 'alloc', name: 'acc', shape: tileOrder(plan).map((a) => a.factors[3]), scope: 'local' }, body);
  const tails = spatial.filter((a) => !a.perfect);
  if (!tails.length) return seq(...lets, withAcc(tileBody(def, plan, accumulation, { bounded: false, masked: [] })));
  const fits = and(...tails.map((a) => le(add(v(baseVar(a.name)), int(a.factors[3])), int(a.extent))));
  // Tiles that start past the extent (the split's product exceeds it) are skipped: an axis whose
  // level-3 factor is 1 has no S3 loop whose bound could stop them.
  const inRange = and(...tails.map((a) => lt(v(baseVar(a.name)), int(a.extent))));
  const fast = withAcc(tileBody(def, plan, accumulation, { bounded: false, masked: [] }));
  return seq(...lets, { k: 'if', cond: fits, then: fast, else: { k: 'if', cond: inRange, then: edgeTile(def, plan, accumulation, tails, withAcc) } });
}

/**
 * A tile that crosses the end of an axis, still at full size where that is safe, so that it runs
 * the unrolled register code rather than loops bounded at run time:
 * - clamped: the tile moves back to end at the extent and recomputes a few outputs of its
 *   neighbour (the same values), when tiles overwrite the output rather than accumulate into it;
 * - masked: along a vector axis every tensor that varies with is packed in zero-filled blocks,
 *   so whole vectors compute zeros past the end, and only the lanes inside are stored.
 * Any other tail falls back to the bounded loops.
 */
function edgeTile(def: ComputeDef, plan: CpuPlan, accumulation: Accumulation, tails: AxisPlan[], withAcc: (s: Stmt) => Stmt): Stmt {
  const masked = tails.filter((a) => a === plan.vectorAxis && a.factors[3] > 1 && readsOnlyPackedAlong(def, plan, a));
  // A tile padding its own slice of an input must not move back into its neighbour's slice.
  const sliceBound = (a: AxisPlan) => [...plan.inTile.values()].some((axes) => axes.includes(a.name));
  const clamped = tails.filter((a) => !masked.includes(a) && !accumulation.accumulateIntoOutput && a.extent >= a.factors[3] && !(a === plan.vectorAxis && plan.packed.length) && !sliceBound(a));
  if (masked.length + clamped.length < tails.length) return withAcc(tileBody(def, plan, accumulation, { bounded: true, masked: [] }));
  // Shadows the tile's base inside this branch (a block of its own in C).
  const moved: Stmt[] = clamped.map((a) => ({ k: 'let', name: baseVar(a.name), value: simplify(min(mul(levelIndex(a, 3), int(a.factors[3])), int(a.extent - a.factors[3]))) }));
  return seq(...moved, withAcc(tileBody(def, plan, accumulation, { bounded: false, masked })));
}

/** Every load that varies along `axis` reads a packed (zero-filled past the end) buffer. */
function readsOnlyPackedAlong(def: ComputeDef, plan: CpuPlan, axis: AxisPlan): boolean {
  if (!plan.packed.length) return false;
  return guardedLoads(def.body).every(({ load }) => plan.packed.includes(load.tensor) || !load.index.some((e) => dependsOn(e, axis.name)));
}

interface TilePaths {
  /** S3 loops bounded at run time by the extent (edge tiles). */
  bounded: boolean;
  /** Axes computed at full width whose lanes past the extent are not stored. */
  masked: AxisPlan[];
}

function tileBody(def: ComputeDef, plan: CpuPlan, { accumulateIntoOutput, buffered, body }: Accumulation, { bounded, masked }: TilePaths): Stmt {
  const { spatial, reduce } = plan;
  const vectorAxis = plan.vectorAxis && plan.vectorAxis.factors[3] > 1 ? plan.vectorAxis : undefined;
  const s3Order = tileOrder(plan);
  const s3Extent = (a: AxisPlan): Expr => bounded
    ? simplify(min(int(a.factors[3]), sub(int(a.extent), v(baseVar(a.name)))))
    : int(a.factors[3]);
  const lane = (a: AxisPlan): Expr => (a.factors[3] > 1 ? v(levelVar(a.name, 3)) : int(0));
  const accIndex = s3Order.map(lane);
  const outIndex = spatial.map((a) => simplify(add(v(baseVar(a.name)), lane(a))));

  // S3 loops around a statement, in the given order; with unrolling decided from the innermost
  // loop outward. Only an innermost vector axis runs as a vector loop.
  // `vectorise: false` (accesses under a lane mask) gives unrolled scalar code, in which every
  // accumulator index is still a constant.
  const s3Loops = (inner: Stmt, unroll: boolean, order = s3Order, vectorise = true): Stmt => {
    let body = inner, product = 1;
    const innermost = [...order].reverse().find((a) => a.factors[3] > 1);
    for (const a of [...order].reverse()) {
      if (a.factors[3] <= 1) continue;
      const kind: LoopKind = a === vectorAxis && a === innermost && vectorise ? 'vector' : 'serial';
      product *= a.factors[3];
      const step = unroll && !bounded && kind !== 'vector' ? tileUnroll(plan, product, a.factors[3]) : undefined;
      body = loop(levelVar(a.name, 3), s3Extent(a), kind, body, step);
    }
    return body;
  };

  // Lanes of masked axes past the extent: never read from or written to the output.
  const inside = masked.length ? and(...masked.map((a) => lt(add(v(baseVar(a.name)), lane(a)), int(a.extent)))) : null;
  // Where the tile's partial sums live between reduce iterations, and the order of its loops there.
  const [partial, partialIndex, partialOrder] = buffered
    ? [outputBufferName(def), bufferIndex(plan, (a, level) => (level === 3 ? lane(a) : a.factors[level] > 1 ? v(levelVar(a.name, level)) : int(0))), s3Order]
    : [def.output.name, outIndex, spatial];
  const readOut = load(partial, partialIndex);
  const init: Expr = !accumulateIntoOutput ? float(0) : inside ? select(inside, readOut, float(0)) : readOut;
  // The output is read and written in its own dimension order (the definition's spatial order),
  // so that the innermost accesses are contiguous even when the vector axis is not its last
  // dimension: lanes written across rows (one row per lane) cost more than the whole reduction
  // on short ones. The output buffer is in the tile's order. Unrolled like the compute loops:
  // an accumulator indexed by a loop variable anywhere stays in memory.
  const initAcc = s3Loops({ k: 'store', tensor: 'acc', index: accIndex, value: init }, true, accumulateIntoOutput ? partialOrder : s3Order, !(inside && accumulateIntoOutput));

  const reduceEnv: Record<string, Expr> = {};
  for (const a of reduce) reduceEnv[a.name] = levelIndex(a, 3);
  const spatialEnv: Record<string, Expr> = {};
  spatial.forEach((a, i) => { spatialEnv[a.name] = outIndex[i]; });
  const value = simplify(substitute(body, { ...reduceEnv, ...spatialEnv }));
  let compute = s3Loops({ k: 'store', tensor: 'acc', index: accIndex, value, accumulate: true }, true);

  // Reduce loops inside the tile: R2 innermost (unrolled when asked), then R1, then R0 if kept
  // inside. Unroll max step 1 forbids unrolling R1 and R0 (and R2 with the reduce flag).
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
        step = unrollStep(plan, unrolledProduct, f);
      } else if (level < 2 && plan.unrollTile && plan.unrollMaxStep === 1) {
        // "Forbid" holds for the tile's outer reduce loops too: gcc peels short ones (3 taps of
        // a 3x3 convolution) whole, and keeps neighbouring taps' overlapping input values live
        // across them, which spills a large tile (0.53-0.60x oneDNN on yolo-C4, AVX2, against
        // 0.68-0.91x with the taps kept a loop).
        step = 1;
      }
      compute = loop(levelVar(a.name, level), extent, 'serial', compute, step);
    }
  }
  const write: Stmt = { k: 'store', tensor: partial, index: partialIndex, value: { k: 'load', tensor: 'acc', index: accIndex } };
  const store = s3Loops(inside ? { k: 'if', cond: inside, then: write } : write, true, partialOrder, !inside);
  return seq(initAcc, compute, store);
}

/** The register tile's own loops are unrolled in full whenever the template may choose layouts
 *  (cpu, not the classic space): an accumulator indexed by a loop variable lives in memory, not in
 *  registers. The unroll knob then governs the reduce loops. */
function tileUnroll(plan: CpuPlan, product: number, extent: number): number | undefined {
  return plan.unrollTile ? extent : unrollStep(plan, product, extent);
}

/** out = 0 before tiles accumulate into it across outer reduce iterations. */
function zeroOutput(def: ComputeDef): Stmt {
  const dims = def.output.shape;
  const index = dims.map((_, i) => v(`z_${i}`));
  let body: Stmt = { k: 'store', tensor: def.output.name, index, value: float(0) };
  for (let i = dims.length - 1; i >= 0; i--) body = loop(`z_${i}`, dims[i], i === 0 ? 'parallel' : i === dims.length - 1 ? 'vector' : 'serial', body);
  return body;
}
