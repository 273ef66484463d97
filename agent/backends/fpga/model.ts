// The analytical latency model of the FPGA template, used when Vitis HLS is not installed.
// Resources come from tensor/templates/fpga-resources.ts (the same figures the template checks
// budgets with); this file turns a plan into cycles, the way an HLS schedule would:
//
// Compute pipeline (per reduce tile): the serial loops of a tile are flattened into one pipelined
//   loop of N = product of serial factors iterations; cycles = (N - 1) * II + depth.
//   Achieved II = max(target II, recurrence II, memory II):
//   - recurrence: the accumulator element a PE updates is read, added to (fadd latency) and written
//     back; if the same element is updated again d iterations later, II >= ceil((L_fadd + 1) / d).
//     Reduce loops innermost (order 0) give d = 1; spatial loops innermost give d = their trip count.
//   - memory: each bank of a buffer has 2 ports. The unrolled PE array touches a set of distinct
//     addresses per iteration (found by evaluating the access indices for every lane); the busiest
//     bank needs ceil(uses / 2) cycles, an accumulator element counts twice (read and write).
//     Single-element banks are registers (no port limit).
//   - depth: buffer read (2) + the body's multiplies and adds + an adder tree over the reduce
//     lanes + the accumulate + write-back (1), with operator latencies from the clock.
// Burst copies (per tile, per buffer): the innermost non-unit dimension moves `burst` elements per
//   cycle, limited by the banks along that dimension (2 ports each) and by the off-chip channel's
//   bytes per cycle (bandwidth / clock, at most a 512-bit AXI beat); elements that are not
//   contiguous in memory move one per cycle. Reads pay the AXI latency once per tile (later bursts
//   are outstanding requests of the same flattened pipeline).
// Total: the code is sequential (no dataflow), so per spatial tile: init + reduce tiles x (copies +
//   compute) + store, times the number of spatial tiles.
import type { ComputeDef } from '../../../tensor/compute.ts';
import { dependsOn } from '../../../tensor/affine.ts';
import {
  axisVar, bankDepth, bankOf, bufferOriginVar, burstDim, type FpgaPlan, type TileBuffer,
} from '../../../tensor/templates/fpga-plan.ts';
import { product } from '../../../tensor/templates/split.ts';
import { bodyOps, estimateResources, FLOAT_OPERATORS, peArray } from '../../../tensor/templates/fpga-resources.ts';
import { copyPipelineVar } from '../../../tensor/templates/fpga.ts';
import { evalIndex } from '../../../tensor/templates/fpga-footprint.ts';
import { secondsOf, type FpgaEstimate, type LoopEstimate } from './estimate.ts';
import { loopLabel } from './hls-renderer.ts';
import type { FpgaPart } from './parts.ts';

export const MODEL_VERSION = 'flexfarm FPGA model v1';

/** Latency of an AXI read from off-chip memory to the first data beat. */
const AXI_LATENCY_NS = 200;
/** Widest AXI beat (bytes). */
const AXI_BEAT_BYTES = 64;
const BYTES_PER_FLOAT = 4;
const BUFFER_READ_CYCLES = 2;
const COPY_DEPTH_CYCLES = 3;
/** Entering and leaving a loop that is not pipelined. */
const LOOP_OVERHEAD_CYCLES = 2;
const START_CYCLES = 10;

export interface FpgaTarget { part: FpgaPart; clockMhz: number }

/** Pipeline stages of a floating-point operator at this clock. */
export function operatorLatency(op: keyof typeof FLOAT_OPERATORS, clockMhz: number): number {
  return Math.max(1, Math.ceil((FLOAT_OPERATORS[op].latencyNs * clockMhz) / 1000));
}

/** Off-chip bytes one AXI port moves per cycle. */
export function portBytesPerCycle(target: FpgaTarget): number {
  return Math.min(AXI_BEAT_BYTES, (target.part.channelGBs * 1000) / target.clockMhz);
}

export interface IiLimits { target: number; recurrence: number; memory: number; achieved: number }

export interface ModelBreakdown {
  ii: IiLimits;
  /** Iterations of the compute pipeline per reduce tile, and its depth. */
  pipelineTrips: number;
  depth: number;
  /** Cycles spent in compute pipelines / burst copies and init over the whole run. */
  computeCycles: number;
  transferCycles: number;
}

export type ModelEstimate = FpgaEstimate & { breakdown: ModelBreakdown };

export function estimatePlan(plan: FpgaPlan, target: FpgaTarget): ModelEstimate {
  const { spatial, reduce } = plan;
  const clock = target.clockMhz;
  const fadd = operatorLatency('fadd', clock), fmul = operatorLatency('fmul', clock);
  const ii = iiLimits(plan, fadd);
  const { lanes } = peArray(plan);
  const ops = bodyOps(plan.def.body);
  const depth = BUFFER_READ_CYCLES + ops.muls * fmul + ops.adds * fadd
    + (reduce.length ? Math.ceil(Math.log2(lanes)) * fadd + fadd : 0) + 1;
  const trips = product([...spatial, ...reduce].map((a) => a.serial));
  const compute = (trips - 1) * ii.achieved + depth + LOOP_OVERHEAD_CYCLES;

  const axiLatency = Math.ceil((AXI_LATENCY_NS * clock) / 1000);
  const bytes = portBytesPerCycle(target);
  const loads = plan.inputs.map((b) => burstCopy(b, plan.burst, bytes, axiLatency));
  const init = reduce.length ? burstCopy(plan.output, plan.burst, null, 0) : null;
  const store = burstCopy(plan.output, plan.burst, bytes, axiLatency);
  const loadCycles = loads.reduce((n, l) => n + l.cycles, 0);

  const spatialTiles = product(spatial.map((a) => a.tiles));
  const reduceTiles = product(reduce.map((a) => a.tiles));
  const perReduceTile = loadCycles + compute + LOOP_OVERHEAD_CYCLES;
  const perSpatialTile = (init?.cycles ?? 0) + reduceTiles * perReduceTile + store.cycles + LOOP_OVERHEAD_CYCLES;
  const cycles = spatialTiles * perSpatialTile + START_CYCLES;

  const copyLoop = (prefix: string, c: BurstCopy): LoopEstimate => {
    const v = copyPipelineVar(prefix, prefix === 'init' || prefix === 'st' ? plan.output.shape : plan.inputs.find((b) => b.name === prefix)!.shape, plan.burst);
    return { name: v ? loopLabel(v) : `${prefix} copy`, tripCount: c.trips, ii: c.ii, depth: COPY_DEPTH_CYCLES, latency: c.cycles };
  };
  const loops: LoopEstimate[] = [
    { name: computeLoopLabel(plan) ?? 'compute', tripCount: trips, ii: ii.achieved, depth, latency: compute },
    ...(init ? [copyLoop('init', init)] : []),
    ...plan.inputs.map((b, i) => copyLoop(b.name, loads[i])),
    copyLoop('st', store),
  ];
  const computeCycles = spatialTiles * reduceTiles * compute;
  return {
    estimator: 'model', cycles, clockMhz: clock, seconds: secondsOf(cycles, clock), ii: ii.achieved,
    resources: estimateResources(plan), loops,
    breakdown: { ii, pipelineTrips: trips, depth, computeCycles, transferCycles: cycles - computeCycles },
  };
}

/** Label of the compute pipeline (the loop a synthesis report's achieved II is read from). */
export function computeLoopLabel(plan: FpgaPlan): string | undefined {
  const serial = (plan.order === 1 ? [...plan.reduce, ...plan.spatial] : [...plan.spatial, ...plan.reduce]).filter((a) => a.serial > 1);
  const last = serial[serial.length - 1];
  return last ? loopLabel(axisVar.serial(last.name)) : undefined;
}

export function iiLimits(plan: FpgaPlan, faddLatency: number): IiLimits {
  const redSerial = product(plan.reduce.map((a) => a.serial));
  const spSerial = product(plan.spatial.map((a) => a.serial));
  let recurrence = 1;
  if (plan.reduce.length && redSerial > 1) {
    const distance = plan.order === 1 ? spSerial : 1;
    recurrence = Math.ceil((faddLatency + 1) / distance);
  }
  const memory = memoryIi(plan);
  return { target: plan.ii, recurrence, memory, achieved: Math.max(plan.ii, recurrence, memory) };
}

/** Cycles the busiest bank needs per pipeline iteration, over two sample iterations. */
export function memoryIi(plan: FpgaPlan): number {
  const axes = [...plan.spatial, ...plan.reduce];
  const samples = [0, 1].map((last) => {
    const env: Record<string, number> = {};
    for (const a of axes) {
      env[axisVar.serial(a.name)] = last ? a.serial - 1 : 0;
      env[axisVar.origin(a.name)] = last ? (a.tiles - 1) * a.tile : 0;
      env[axisVar.unroll(a.name)] = 0;
    }
    for (const b of plan.inputs) b.origin.forEach((o, d) => { env[bufferOriginVar(b.name, d)] = evalIndex(o, env); });
    return env;
  });
  let worst = 1;
  for (const buffer of [...plan.inputs, plan.output]) {
    if (bankDepth(buffer) <= 1) continue; // registers: every element has its own
    const readModifyWrite = buffer === plan.output;
    const lanes = axes.filter((a) => a.unroll > 1 && buffer.access.some((e) => dependsOn(e, axisVar.unroll(a.name))));
    for (const env of samples) {
      const perBank = new Map<number, Set<number>>();
      forEachLane(lanes, env, () => {
        const index = buffer.access.map((e) => evalIndex(e, env));
        const bank = bankOf(buffer, index);
        const flat = index.reduce((f, i, d) => f * buffer.shape[d] + i, 0);
        let set = perBank.get(bank);
        if (!set) perBank.set(bank, (set = new Set()));
        set.add(flat);
      });
      for (const set of perBank.values()) worst = Math.max(worst, Math.ceil((set.size * (readModifyWrite ? 2 : 1)) / 2));
    }
  }
  return worst;
}

function forEachLane(lanes: { name: string; unroll: number }[], env: Record<string, number>, visit: () => void, depth = 0): void {
  if (depth === lanes.length) { visit(); return; }
  const name = axisVar.unroll(lanes[depth].name);
  for (let u = 0; u < lanes[depth].unroll; u++) {
    env[name] = u;
    forEachLane(lanes, env, visit, depth + 1);
  }
  env[name] = 0;
}

export interface BurstCopy { trips: number; ii: number; cycles: number }

/**
 * A buffer-shaped copy, innermost dimension in chunks of `burst`: trips x II + depth (+ the AXI
 * latency). `bytesPerCycle` null: on-chip only (initialisation).
 */
export function burstCopy(buffer: TileBuffer, burst: number, bytesPerCycle: number | null, latency: number): BurstCopy {
  const along = burstDim(buffer.shape);
  const width = Math.min(burst, buffer.shape[along]);
  const trips = product(buffer.shape.slice(0, along)) * Math.ceil(buffer.shape[along] / width);
  let ii = 1;
  if (bankDepth(buffer) > 1) {
    const perBank = new Map<number, number>();
    for (let j = 0; j < width; j++) {
      const bank = bankOf(buffer, buffer.shape.map((_, d) => (d === along ? j : 0)));
      perBank.set(bank, (perBank.get(bank) ?? 0) + 1);
    }
    ii = Math.max(...[...perBank.values()].map((n) => Math.ceil(n / 2)));
  }
  if (bytesPerCycle !== null) {
    // Consecutive buffer elements are consecutive in memory only when the tensor has nothing
    // after the burst dimension; otherwise every element is its own single-beat transfer.
    const contiguous = buffer.tensorShape.slice(along + 1).every((n) => n === 1);
    ii = Math.max(ii, contiguous ? Math.ceil((width * BYTES_PER_FLOAT) / bytesPerCycle) : width);
  }
  return { trips, ii, cycles: (trips - 1) * ii + COPY_DEPTH_CYCLES + latency };
}

/**
 * The unscheduled operator as HLS would build it: every output point runs its reduction as one
 * pipelined loop (Vitis pipelines innermost loops by default) whose II is the fadd recurrence of
 * the scalar accumulator, reading operands straight from off-chip memory.
 */
export function estimateReference(def: ComputeDef, target: FpgaTarget): { cycles: number; seconds: number } {
  const clock = target.clockMhz;
  const fadd = operatorLatency('fadd', clock), fmul = operatorLatency('fmul', clock);
  const axiLatency = Math.ceil((AXI_LATENCY_NS * clock) / 1000);
  const points = product(def.spatial.map((a) => a.extent));
  const reduction = product(def.reduce.map((a) => a.extent));
  const ops = bodyOps(def.body);
  const depth = axiLatency + ops.muls * fmul + ops.adds * fadd + fadd + 1;
  const perPoint = (reduction - 1) * fadd + depth + LOOP_OVERHEAD_CYCLES;
  const cycles = points * perPoint + START_CYCLES;
  return { cycles, seconds: secondsOf(cycles, clock) };
}
