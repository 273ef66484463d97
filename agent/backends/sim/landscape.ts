// The sim target's analytical landscape over CPU-template configs: a deterministic estimate of a
// kernel's seconds from how its schedule uses a model multicore CPU. Not a device measurement:
// it exists so that search methods and the farm can be tested and benchmarked without hardware.
//
//   seconds = flops / (peak * efficiency) + launch
//   efficiency = parallel balance (level-0 product vs cores)
//              x vector efficiency (innermost non-unit level-3 factor vs lane width, strided loads)
//              x register-tile reuse (flops per input element per reduce step) and spills
//              x cache-tile reuse (levels 1..3, against the cache level its footprint fits in)
//              x tail waste of imperfect splits x unroll effects x a ceiling
// Smooth saturating terms give gradients to climb; capacity thresholds (register file, caches,
// parallel balance, which axis is vectorised) give the plateaus and local optima of real CPUs.
import type { ComputeDef } from '../../../tensor/compute.ts';
import { footprint, inputAccesses, vectorStride, type Access } from './access.ts';

export interface SimDevice {
  cores: number;
  /** float32 lanes of one vector register. */
  lanes: number;
  /** Vector registers the accumulator tile and operands share. */
  vectorRegisters: number;
  /** Peak float32 FLOP/s of one core (FMA = 2). */
  peakCoreFlops: number;
  l1Bytes: number;
  /** Private per core. */
  l2Bytes: number;
  /** Shared by all cores. */
  l3Bytes: number;
}

export const DEFAULT_SIM_DEVICE: SimDevice = {
  cores: 8, lanes: 16, vectorRegisters: 32, peakCoreFlops: 3e9 * 64,
  l1Bytes: 32 * 1024, l2Bytes: 1024 * 1024, l3Bytes: 16 * 1024 * 1024,
};

/** The schedule as the landscape reads it (the CPU template's knobs). */
export interface SimSchedule {
  /** Per spatial axis, 4 factors outermost first. */
  spatial: number[][];
  /** Per reduce axis, 3 factors outermost first. */
  reduce: number[][];
  /** 0: outer reduce level inside the cache tile; 1: whole reduction in the register tile;
   *  2: outer reduce level outside the cache-tile loops. */
  reorder: number;
  unrollMaxStep: number;
  unrollReduce: boolean;
}

export interface SimEstimate {
  seconds: number;
  efficiency: number;
  parallel: number;
  vector: number;
  register: number;
  cache: number;
  tail: number;
  unroll: number;
}

/** The best a schedule can reach: pipelines never run full all the time. */
const CEILING = 0.85;
const LAUNCH_SECONDS = 2e-6;
const BYTES_PER_FLOAT = 4;
/** Flops per element loaded into registers that keep the FMAs busy, by where the operand
 *  panels of one register tile live (L1 feeds two vector loads per cycle, L2 far fewer). */
const REGISTER_REUSE_NEEDED = { l1: 8, l2: 14, l3: 24 };
/** Flops per element brought in that hide each level's bandwidth. */
const REUSE_NEEDED = { l1: 3, l2: 10, l3: 24, dram: 64 };
/** A vector along an axis that a load reads with a stride becomes a gather. */
const GATHER_PENALTY = 0.3;

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

export function estimate(def: ComputeDef, s: SimSchedule, dev: SimDevice = DEFAULT_SIM_DEVICE): SimEstimate {
  const accesses = inputAccesses(def);
  const spatialNames = def.spatial.map((a) => a.name);
  const reduceNames = def.reduce.map((a) => a.name);

  // Tail waste: loops of imperfect splits cover more than the extent; edge tiles take a guarded path.
  let covered = 1, imperfect = 0;
  const check = (factors: number[], extent: number) => {
    const p = product(factors);
    covered *= p / extent;
    if (p !== extent) imperfect++;
  };
  s.spatial.forEach((f, i) => check(f, def.spatial[i].extent));
  s.reduce.forEach((f, i) => check(f, def.reduce[i].extent));
  const tail = 1 / (covered * (1 + 0.03 * imperfect));

  // Parallel balance: level 0 of every spatial axis is fused and split statically over the cores.
  const tasks = product(s.spatial.map((f) => f[0]));
  const parallel = tasks / (Math.ceil(tasks / dev.cores) * dev.cores);

  // Vector: the innermost spatial axis with a non-unit level-3 factor.
  let vector = 1 / dev.lanes;
  let vectorAxis = -1;
  for (let i = s.spatial.length - 1; i >= 0; i--) if (s.spatial[i][3] > 1) { vectorAxis = i; break; }
  if (vectorAxis >= 0) {
    const width = s.spatial[vectorAxis][3];
    const used = width >= dev.lanes ? width / (Math.ceil(width / dev.lanes) * dev.lanes) : width / dev.lanes;
    const gathers = accesses.filter((a) => vectorStride(a, spatialNames[vectorAxis]) === 'strided').length;
    vector = Math.max(1 / dev.lanes, used * GATHER_PENALTY ** gathers);
  }

  // Register tile: flops per input element loaded per reduce step, against what the level its
  // operand panels (the inputs of one tile's whole inner reduction) stream from can feed;
  // spills past the register file.
  const tile = product(s.spatial.map((f) => f[3]));
  const level3 = s.spatial.map((f) => f[3]);
  const loadsPerStep = sum(accesses, (a) => footprint(a, extentOf(spatialNames, level3, reduceNames, s.reduce.map(() => 1))));
  const insideTile = s.reduce.map((f) => (s.reorder === 1 ? f[0] * f[1] * f[2] : f[1] * f[2]));
  const panelBytes = BYTES_PER_FLOAT * sum(accesses, (a) => footprint(a, extentOf(spatialNames, level3, reduceNames, insideTile)));
  const registerReuse = (2 * tile) / Math.max(1, loadsPerStep);
  const panelNeed = panelBytes <= dev.l1Bytes ? REGISTER_REUSE_NEEDED.l1
    : panelBytes <= dev.l2Bytes ? REGISTER_REUSE_NEEDED.l2 : REGISTER_REUSE_NEEDED.l3;
  let register = saturate(registerReuse, panelNeed);
  const registersNeeded = Math.ceil(tile / dev.lanes) + 4;
  if (registersNeeded > dev.vectorRegisters) register *= (dev.vectorRegisters / registersNeeded) ** 2;

  // Cache tile: levels 1..3 of the spatial axes and the reduce levels inside the tile.
  const spatialTile = s.spatial.map((f) => f[1] * f[2] * f[3]);
  const reduceTile = insideTile;
  const cacheExtent = extentOf(spatialNames, spatialTile, reduceNames, reduceTile);
  const inputElements = sum(accesses, (a) => footprint(a, cacheExtent));
  const outputElements = product(spatialTile);
  const outerReduce = product(s.reduce.map((f) => f[0]));
  // Outside the tile, the outer reduce level re-reads and re-writes the output tile; with
  // reorder 2 the output of the whole parallel chunk is swept once per outer reduce step.
  const outputPasses = s.reorder === 1 || outerReduce === 1 ? 1 : s.reorder === 0 ? 2 : 3;
  const tileBytes = BYTES_PER_FLOAT * (inputElements + outputElements);
  // Half of L2: the tile shares it with the streams of the next one.
  const need = tileBytes <= dev.l1Bytes ? REUSE_NEEDED.l1
    : tileBytes <= dev.l2Bytes / 2 ? REUSE_NEEDED.l2
      : tileBytes <= dev.l3Bytes / dev.cores ? REUSE_NEEDED.l3 : REUSE_NEEDED.dram;
  const cacheReuse = (2 * outputElements * product(reduceTile)) / (inputElements + outputPasses * outputElements);
  const cache = saturate(cacheReuse, need);

  // Unroll: more unrolling helps until the body outgrows the instruction cache.
  const innerReduce = product(s.reduce.map((f) => f[2]));
  const body = tile * (s.unrollReduce ? innerReduce : 1);
  let unroll = s.unrollMaxStep === 0 ? 0.9 : s.unrollMaxStep === 1 ? 0.92
    : body <= s.unrollMaxStep ? 1 : s.unrollMaxStep === 512 ? 0.96 : 0.9;
  if (s.unrollReduce) unroll *= innerReduce <= 8 ? 1.03 : innerReduce > 64 ? 0.94 : 1;

  const efficiency = CEILING * parallel * vector * register * cache * tail * unroll;
  const seconds = def.flops / (dev.peakCoreFlops * dev.cores * efficiency) + LAUNCH_SECONDS;
  return { seconds, efficiency, parallel, vector, register, cache, tail, unroll };
}

/** The unscheduled kernel: one core, scalar, no tiling (every loop at full extent, in order). */
export function referenceEstimate(def: ComputeDef, dev: SimDevice = DEFAULT_SIM_DEVICE): SimEstimate {
  return estimate(def, {
    spatial: def.spatial.map((a) => [1, a.extent, 1, 1]),
    reduce: def.reduce.map((a) => [1, a.extent, 1]),
    reorder: 0, unrollMaxStep: 0, unrollReduce: false,
  }, { ...dev, cores: 1 });
}

/** Reuse x against the reuse a level needs: proportional below it (bandwidth-bound), 0.8 at
 *  need, saturating towards 1 beyond it (continuous, with a continuous slope). */
function saturate(x: number, need: number): number {
  const r = x / need;
  return r <= 1 ? 0.8 * r : 0.8 + 0.2 * (1 - Math.exp(-4 * (r - 1)));
}

function extentOf(spatial: string[], spatialExtents: number[], reduce: string[], reduceExtents: number[]) {
  const map = new Map<string, number>();
  spatial.forEach((n, i) => map.set(n, spatialExtents[i]));
  reduce.forEach((n, i) => map.set(n, reduceExtents[i]));
  return (name: string) => map.get(name) ?? 1;
}

function sum(accesses: Access[], f: (a: Access) => number): number {
  return accesses.reduce((n, a) => n + f(a), 0);
}
