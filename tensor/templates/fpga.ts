// The FPGA template (HLS): tiles moved on chip by burst copies, a PE array from unrolled inner
// loops inside one pipelined loop, banked tile buffers. Knobs and plan: fpga-plan.ts; resources
// and the budget check: fpga-resources.ts. The loop nest it lowers to:
//
//   alloc tile buffers (partitioned)                     static: BRAM / LUTRAM / registers
//   for spatial tiles:                                   x_t, origin x_o = x_t * tile
//     out_buf = 0                                        (burst-wide init loop)
//     for reduce tiles:                                  r_t, origin r_o
//       for each input: in_buf <- tensor (burst copy, zero outside the tensor: padding, tails)
//       for serial loops (flattened; innermost one PIPELINE II=ii; order knob sets which are inner)
//         for unrolled spatial lanes (PE array) and reduce lanes (adder tree):   UNROLL
//           out_buf[local] += body(in_buf[...])           (reduce tails guarded)
//     tensor <- out_buf (burst copy, tails guarded)
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import {
  add, and, float, int, load, loop, lt, ge, mapChildren, mul, select, seq, simplify, substitute, v,
  type Expr, type Stmt,
} from '../ir.ts';
import {
  axisVar, bufferOriginVar, BURST_ENTITIES, burstDim, II_ENTITIES, localExpr, ORDER_ENTITIES, originExpr, PARTITION_KINDS,
  planFpga, FPGA_REDUCE_PARTS, FPGA_SPATIAL_PARTS, type FpgaAxis, type FpgaPlan, type TileBuffer,
} from './fpga-plan.ts';
import { estimateResources, MAX_BANKS_PER_BUFFER, MAX_LANES, overBudget, peArray, type FpgaBudget } from './fpga-resources.ts';
import { product, splitKnobs } from './split.ts';
import type { Config, DeviceLimits, Knob, Template, TemplateOptions } from './template.ts';

export const fpgaTemplate: Template = {
  target: 'fpga',
  knobs(def: ComputeDef, options: TemplateOptions = {}): Knob[] {
    const exact = options.exactSplits ?? false;
    return [
      ...splitKnobs(def, FPGA_SPATIAL_PARTS, FPGA_REDUCE_PARTS, exact),
      { name: 'order', kind: 'choice', entities: ORDER_ENTITIES },
      { name: 'ii', kind: 'choice', entities: II_ENTITIES },
      { name: 'partition', kind: 'choice', entities: PARTITION_KINDS.map((_, i) => i) },
      { name: 'burst', kind: 'choice', entities: BURST_ENTITIES },
    ];
  },
  check(def: ComputeDef, config: Config, limits: DeviceLimits): void {
    checkPlan(planFpga(def, config), limits);
  },
  lower: (def: ComputeDef, config: Config): Stmt => lowerFpga(planFpga(def, config)),
};

/** Structural limits, then the part's budgets (limits `dsp`, `bram18`, `lut`, `ff`, `uram`). */
export function checkPlan(plan: FpgaPlan, limits: DeviceLimits): void {
  const { pes, lanes } = peArray(plan);
  if (pes * lanes > MAX_LANES) {
    throw new InstantiationError(`unrolled PE array of ${pes} x ${lanes} lanes exceeds ${MAX_LANES} (the last split factor of each axis)`);
  }
  for (const b of [...plan.inputs, plan.output]) {
    const banks = product(b.banks);
    if (banks > MAX_BANKS_PER_BUFFER) throw new InstantiationError(`buffer ${b.name} would be partitioned into ${banks} banks (limit ${MAX_BANKS_PER_BUFFER})`);
  }
  const problem = overBudget(estimateResources(plan), limits as Partial<FpgaBudget>);
  if (problem) throw new InstantiationError(`config over the FPGA budget: ${problem}`);
}

function lowerFpga(plan: FpgaPlan): Stmt {
  const { spatial, reduce } = plan;
  const buffers = [...plan.inputs, plan.output];
  const allocs: Stmt[] = buffers.map((b) => ({ k: 'alloc', name: b.name, shape: b.shape, scope: 'local', partition: b.partition }));
  const originLets = (axes: FpgaAxis[]): Stmt[] => axes.filter((a) => a.tiles > 1)
    .map((a) => ({ k: 'let', name: axisVar.origin(a.name), value: simplify(mul(v(axisVar.tile(a.name)), int(a.tile))) }));
  const tileLoops = (axes: FpgaAxis[], body: Stmt): Stmt => axes.filter((a) => a.tiles > 1)
    .reduceRight((inner, a) => loop(axisVar.tile(a.name), a.tiles, 'serial', inner), body);

  const reduceTile = seq(
    ...originLets(reduce),
    ...plan.inputs.flatMap((b) => [
      ...b.origin.map((o, d): Stmt => ({ k: 'let', name: bufferOriginVar(b.name, d), value: o })),
      copyIn(b, plan.burst),
    ]),
    computeNest(plan),
  );
  const spatialTile = seq(
    ...originLets(spatial),
    ...(reduce.length ? [tileNest('init', plan.output.shape, plan.burst, (i) => ({ k: 'store', tensor: plan.output.name, index: i, value: float(0) }))] : []),
    tileLoops(reduce, reduceTile),
    copyOut(plan.output, plan.burst),
  );
  return seq({ k: 'comment', text: describePlan(plan) }, ...allocs, tileLoops(spatial, spatialTile));
}

/** The pipelined compute: serial loops (flattened, innermost pipelined) around the unrolled PE array. */
function computeNest(plan: FpgaPlan): Stmt {
  const { def, spatial, reduce, output } = plan;
  const env: Record<string, Expr> = {};
  for (const a of [...spatial, ...reduce]) env[a.name] = simplify(add(originExpr(a), localExpr(a)));
  const byTensor = new Map(plan.inputs.map((b) => [b.tensor, b]));
  const value = rewrite(def.body, env, byTensor);
  let body: Stmt = { k: 'store', tensor: output.name, index: output.access, value, accumulate: reduce.length > 0 };
  const tails = reduce.filter((a) => !a.perfect);
  if (tails.length) body = { k: 'if', cond: and(...tails.map((a) => lt(env[a.name], int(a.extent)))), then: body };
  for (const a of [...spatial, ...reduce].reverse()) {
    if (a.unroll > 1) body = loop(axisVar.unroll(a.name), a.unroll, 'unroll', body, a.unroll);
  }
  const serial = (plan.order === 1 ? [...reduce, ...spatial] : [...spatial, ...reduce]).filter((a) => a.serial > 1);
  for (let i = serial.length - 1; i >= 0; i--) {
    const a = serial[i];
    const pipelined = i === serial.length - 1;
    body = pipelined
      ? pipeline(axisVar.serial(a.name), a.serial, plan.ii, body)
      : loop(axisVar.serial(a.name), a.serial, 'serial', body);
  }
  return body;
}

/** The body with loads served from the tile buffers and the other axis uses made global. */
function rewrite(e: Expr, env: Record<string, Expr>, buffers: Map<string, TileBuffer>): Expr {
  if (e.k === 'load') {
    const b = buffers.get(e.tensor);
    return b ? load(b.name, b.access) : simplify(substitute(e, env));
  }
  if (e.k === 'var') return env[e.name] ?? e;
  const mapped = mapChildren(e, (c) => rewrite(c, env, buffers));
  if (mapped.k === 'bin' || mapped.k === 'cmp') return simplify(mapped);
  return mapped.k === 'and' ? and(...mapped.terms) : mapped;
}

/** Burst copy of an input tile: zero where the footprint leaves the tensor (padding, tails). */
function copyIn(b: TileBuffer, burst: number): Stmt {
  return tileNest(b.name, b.shape, burst, (index) => {
    const global = index.map((i, d) => simplify(add(v(bufferOriginVar(b.name, d)), i)));
    const guards: Expr[] = [];
    global.forEach((g, d) => {
      if (b.guardLow[d]) guards.push(ge(g, int(0)));
      if (b.guardHigh[d]) guards.push(lt(g, int(b.tensorShape[d])));
    });
    const value = load(b.tensor, global);
    return { k: 'store', tensor: b.name, index, value: guards.length ? select(and(...guards), value, float(0)) : value };
  });
}

/** Burst copy of the output tile back to the tensor, skipping the tails. */
function copyOut(b: TileBuffer, burst: number): Stmt {
  return tileNest('st', b.shape, burst, (index) => {
    const global = index.map((i, d) => simplify(add(b.origin[d], i)));
    const store: Stmt = { k: 'store', tensor: b.tensor, index: global, value: load(b.name, index) };
    const guards = global.flatMap((g, d) => (b.guardHigh[d] ? [lt(g, int(b.tensorShape[d]))] : []));
    return guards.length ? { k: 'if', cond: and(...guards), then: store } : store;
  });
}

/**
 * Loops over a buffer-shaped box, the burst dimension (innermost non-unit) in chunks of `burst`
 * elements: the chunk loop is pipelined (II=1), the elements of a chunk unrolled, so one chunk
 * moves per cycle.
 */
function tileNest(prefix: string, shape: number[], burst: number, body: (index: Expr[]) => Stmt): Stmt {
  const along = burstDim(shape);
  const width = Math.min(burst, shape[along]);
  const chunks = Math.ceil(shape[along] / width);
  const burstIndex = simplify(add(chunks > 1 ? mul(v(`${prefix}_c`), int(width)) : int(0), width > 1 ? v(`${prefix}_w`) : int(0)));
  const index = shape.map((n, d) => (d === along ? burstIndex : n > 1 && d < along ? v(`${prefix}_i${d}`) : int(0)));
  let inner = body(index);
  if (shape[along] % width !== 0) inner = { k: 'if', cond: lt(burstIndex, int(shape[along])), then: inner };
  if (width > 1) inner = loop(`${prefix}_w`, width, 'unroll', inner, width);
  const loops: [string, number][] = shape.slice(0, along).flatMap((n, d): [string, number][] => (n > 1 ? [[`${prefix}_i${d}`, n]] : []));
  if (chunks > 1) loops.push([`${prefix}_c`, chunks]);
  for (let i = loops.length - 1; i >= 0; i--) {
    const [name, extent] = loops[i];
    inner = i === loops.length - 1 ? pipeline(name, extent, 1, inner) : loop(name, extent, 'serial', inner);
  }
  return inner;
}

const pipeline = (name: string, extent: number, ii: number, body: Stmt): Stmt =>
  ({ k: 'loop', v: name, extent: int(extent), kind: 'pipeline', ii, body });

/** The loop variable tileNest pipelines for a buffer shape, or null when it makes no loop. */
export function copyPipelineVar(prefix: string, shape: number[], burst: number): string | null {
  const along = burstDim(shape);
  if (Math.ceil(shape[along] / Math.min(burst, shape[along])) > 1) return `${prefix}_c`;
  for (let d = along - 1; d >= 0; d--) if (shape[d] > 1) return `${prefix}_i${d}`;
  return null;
}

function describePlan(plan: FpgaPlan): string {
  const axes = [...plan.spatial, ...plan.reduce];
  const { pes, lanes } = peArray(plan);
  return `FPGA plan: tiles ${axes.map((a) => `${a.name}=${a.tile}`).join(' ')}; PE array ${plan.spatial.map((a) => a.unroll).join('x')} (${pes} PEs)` +
    ` x ${lanes} reduce lanes; ${plan.order === 1 ? 'spatial' : 'reduce'} loops innermost; II target ${plan.ii};` +
    ` ${plan.partition} partitioning; bursts of ${plan.burst} elements`;
}
