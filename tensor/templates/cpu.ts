// FlexTensor's CPU template: every spatial axis split in 4 levels and every reduce axis in 3.
//
//   [prepare, once, untimed: pack constant inputs into blocks of the register tile]
//   [padding stage: copy guarded inputs into zero-padded buffers]
//   S0 (all spatial axes, fused and parallel: OpenMP collapse)
//     S1 (cache tile)  [R0 here when reorder = 0]
//       S2 (register tiles inside the cache tile)
//         acc[S3 tile] ← out (or 0)        one accumulator tile in registers
//         R0? R1 R2 (reduce)               reorder = 1 keeps the whole reduction inside the tile
//           S3 loops, the vector axis innermost and vectorised: acc += body
//         out ← acc
//   (reorder = 2 puts R0 between S0 and S1.)
//
// Layout knobs (cpu-layout.ts finds which apply, from the body alone):
//   vector     which spatial axis is the innermost, vectorised loop (its accumulator lanes are
//              contiguous); without it, the innermost spatial axis tiled above 1.
//   pack.<T>   constant input T read from a copy blocked along the vector axis (cpu-stages.ts).
//   pad.<T>    guarded input T read from a zero-padded copy, with no guard in the loops (2: each
//              parallel tile pads the slice it reads, where tiles read disjoint slices).
//   fuse       two adjacent spatial axes as one (h·w of a 1×1 convolution), cpu-fuse.ts.
//
// Where a stride-divisibility guard skips most (output, tap) pairs (transposed convolutions),
// the space is that of the phase-decomposed definition (cpu-phase.ts): axes h_o, h_p, r_o for
// h and r, and only useful pairs left. Configs naming the original axes are planned as before.
//
// Tails of imperfect splits are guarded: a register tile that fits entirely takes a
// constant-extent path the compiler can unroll and vectorise; edge tiles are moved back or
// masked to run the same code where that is safe, and take bounded loops otherwise (cpu-lower.ts).
import { checkConfigObject } from './config-checks.ts';
import { shown } from '../quote.ts';
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import { packableInputs, stageableInputs, vectorAxes } from './cpu-layout.ts';
import { fusablePairs, fuseAxes, fusedName, withViews, type Fusion } from './cpu-fuse.ts';
import { phaseAxes, phaseDef } from './cpu-phase.ts';
import { lowerCpu } from './cpu-lower.ts';
import { CPU_REDUCE_PARTS, CPU_SPATIAL_PARTS, LAYOUT_ENTITIES, padEntities, parallelAxes, planCpu, REORDER_ENTITIES, UNROLL_ENTITIES } from './cpu-plan.ts';
import { splitEntities, splitKnobs } from './split.ts';
import { leastOperandLoadsPerFma, operandLoadsPerFma, tileVectors } from './cpu-operand-loads.ts';
import type { Config, DeviceLimits, Knob, Template, TemplateOptions } from './template.ts';

export { CPU_REDUCE_PARTS, CPU_SPATIAL_PARTS, planCpu, REORDER_ENTITIES, UNROLL_ENTITIES } from './cpu-plan.ts';
export const DEFAULT_MAX_ACCUMULATOR = 4096;
/** Independent accumulators that hide the multiply-add latency (4 cycles × 2 pipes). */
const LATENCY_ACCUMULATORS = 8;
/** How much more operand traffic per multiply-add than the best tile a small tile may have.
 *  Current cores issue 2 to 3 loads a cycle beside 2 multiply-adds, so a tile of 8 points × one
 *  vector (9 loads per 8 multiply-adds) keeps the pipes fed: on Zen 4 with AVX2 such conv2d
 *  tiles ran at 0.85–0.93× oneDNN where the 6 × 2-vector ones (8 loads per 12) ran 0.56–0.74×.
 *  A tile that reloads its reused operands at every use (AVX2's 4 × 3, twice the best's loads)
 *  stays out. */
const OPERAND_LOAD_SLACK = 1.75;

/** The CPU template. `layoutKnobs: false` is FlexTensor's original space (splits, reorder,
 *  unroll), which the sim target's landscape models. */
function makeCpuTemplate(layoutKnobs: boolean): Template {
  return {
    target: 'cpu',
    knobs(operator: ComputeDef, options: TemplateOptions = {}): Knob[] {
      const def = layoutKnobs ? phaseDef(operator) : operator;
      const exact = options.exactSplits ?? false;
      const pairs = fusablePairs(def);
      const layout: Knob[] = !layoutKnobs ? [] : [
        ...(vectorAxes(def).length ? [{ name: 'vector', kind: 'choice' as const, entities: vectorAxes(def) }] : []),
        ...packableInputs(def).map((t): Knob => ({ name: `pack.${t}`, kind: 'choice', entities: LAYOUT_ENTITIES })),
        ...stageableInputs(def).map((s): Knob => ({ name: `pad.${s.tensor}`, kind: 'choice', entities: padEntities(def, s.tensor) })),
        // fuse: 0 none, i + 1 fuses spatial axes i and i + 1; the fused axis has its own split knob.
        ...(pairs.length ? [{ name: 'fuse', kind: 'choice' as const, entities: [0, ...pairs.map((i) => i + 1)] }] : []),
        ...pairs.map((i): Knob => {
          const name = fusedName(def, i), extent = def.spatial[i].extent * def.spatial[i + 1].extent;
          return { name: `split.${name}`, kind: 'split', entities: splitEntities(extent, CPU_SPATIAL_PARTS, exact, true), axis: { name, extent, reduce: false } };
        }),
      ];
      return [
        ...splitKnobs(def, CPU_SPATIAL_PARTS, CPU_REDUCE_PARTS, exact, true),
        { name: 'reorder', kind: 'choice', entities: REORDER_ENTITIES },
        { name: 'unroll', kind: 'choice', entities: UNROLL_ENTITIES },
        ...layout,
      ];
    },
    check(def: ComputeDef, config: Config, limits: DeviceLimits): void {
      const { plan } = resolve(def, config, layoutKnobs);
      const tile = plan.spatial.reduce((n, a) => n * a.factors[3], 1);
      const maxAcc = limits.maxAccumulator ?? DEFAULT_MAX_ACCUMULATOR;
      if (tile > maxAcc) {
        throw new InstantiationError(`register tile of ${tile} floats (level-3 factors) exceeds the limit of ${maxAcc}`);
      }
    },
    unpromising: (def, config, limits) => {
      if (!layoutKnobs) return null;
      const { working, plan } = resolve(def, config, layoutKnobs);
      return registerTileProblem(working, plan, limits);
    },
    lower: (def: ComputeDef, config: Config) => {
      const { working, plan, views } = resolve(def, config, layoutKnobs);
      return withViews(lowerCpu(working, plan), views);
    },
  };
}

/** The definition the config schedules (phases, then fused axes), its plan, and the views of
 *  the tensors it reshapes, in order (the later view of a tensor is the one its loads use). */
function resolve(def: ComputeDef, config: Config, layoutKnobs: boolean) {
  checkConfigObject(config);
  const phases = layoutKnobs ? phasesFor(def, config) : null;
  const scheduled = resolveFusion(phases?.def ?? def, config, layoutKnobs);
  return { ...scheduled, views: [...(phases?.views ?? []), ...scheduled.views] };
}

/** The phase decomposition the config schedules: configs of the template's space name its axes;
 *  older ones name the original axes (split.h, no split.h_o) and keep their meaning. */
function phasesFor(def: ComputeDef, config: Config): Fusion | null {
  const phases = phaseAxes(def);
  if (!phases) return null;
  const own = (d: ComputeDef, other: ComputeDef) => [...d.spatial, ...d.reduce]
    .filter((a) => ![...other.spatial, ...other.reduce].some((b) => b.name === a.name))
    .map((a) => `split.${a.name}`).filter((knob) => config[knob] !== undefined);
  const original = own(def, phases.def), decomposed = own(phases.def, def);
  if (original.length && decomposed.length) {
    throw new InstantiationError(`knobs ${original.map((k) => `'${k}'`).join(', ')} split the original axes and ${decomposed.map((k) => `'${k}'`).join(', ')} the phase-decomposed ones: a config names one set`);
  }
  return original.length ? null : phases;
}

/** Fused axes replaced by one. A fused pair's own split knobs are then unused, as is the fused
 *  axis's knob without fusion. */
function resolveFusion(def: ComputeDef, config: Config, layoutKnobs: boolean) {
  const pairs = layoutKnobs ? fusablePairs(def) : [];
  const fuse = config.fuse ?? 0;
  if (pairs.length && (typeof fuse !== 'number' || !(fuse === 0 || pairs.includes(fuse - 1)))) {
    throw new InstantiationError(`knob 'fuse' must be one of 0, ${pairs.map((i) => i + 1).join(', ')} (fuse spatial axes i-1 and i), got ${shown(fuse)}`);
  }
  const own: Config = { ...config };
  delete own.fuse;
  for (const i of pairs) delete own[`split.${fusedName(def, i)}`];
  if (!pairs.length || fuse === 0) return { working: def, plan: planCpu(def, own, layoutKnobs), views: [] as Fusion['views'] };
  const outer = (fuse as number) - 1, fusion = fuseAxes(def, outer)!;
  const a = def.spatial[outer].name, b = def.spatial[outer + 1].name, name = fusedName(def, outer);
  const fused: Config = { ...own, [`split.${name}`]: config[`split.${name}`] };
  delete fused[`split.${a}`];
  delete fused[`split.${b}`];
  // The vector axis keeps its meaning: a or b means the fused axis; later axes move up by one.
  if (typeof config.vector === 'number') fused.vector = config.vector > outer + 1 ? config.vector - 1 : Math.min(config.vector, outer);
  return { working: fusion.def, plan: planCpu(fusion.def, fused, layoutKnobs), views: fusion.views };
}

/** With the host's vector width, register count and threads: the tile is whole vectors along the
 *  vector axis (partial vectors run scalar), its accumulators fit the register file (beyond it
 *  they spill to memory on every multiply-add), enough of them hide the multiply-add latency, its
 *  operands cost about as few loads per multiply-add as the best tile's, and the parallel level
 *  has work for every thread. */
function registerTileProblem(def: ComputeDef, plan: ReturnType<typeof planCpu>, limits: DeviceLimits): string | null {
  // Limits come from an agent's heartbeat, untrusted: a rule applies only to plausible values.
  const plausible = (x: unknown, most: number): x is number => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= most;
  const lanes = limits.vectorWidth, registers = limits.vectorRegisters;
  if (!plausible(lanes, 64) || !plausible(registers, 256) || lanes < 2) return null;
  const axis = plan.vectorAxis;
  const width = axis?.factors[3] ?? 1;
  if (axis && axis.extent >= lanes && width % lanes !== 0) {
    return `knob 'split.${axis.name}': the vector axis's level-3 factor ${width} is not a whole number of ${lanes}-float vectors`;
  }
  const threads = plausible(limits.threads, 4096) ? limits.threads : undefined;
  const tiles = parallelAxes(plan).reduce((n, a) => n * a.factors[0], 1);
  if (typeof threads === 'number' && tiles < threads && plan.spatial.reduce((n, a) => n * a.extent, 1) >= threads) {
    return `knobs 'split.*': the level-0 factors give ${tiles} parallel tile(s), fewer than the ${threads} threads that run the kernel`;
  }
  const tile = new Map(plan.spatial.map((a) => [a.name, a.factors[3]] as const));
  const vectors = tileVectors(tile, axis?.name ?? null, lanes);
  // A multiply-add takes one operand from a register besides its accumulator (a broadcast or a
  // loaded vector), so a tile of all the registers spills.
  if (vectors >= registers) {
    return `register tile of ${vectors} vectors (level-3 factors) leaves none of the host's ${registers} vector registers for the operands`;
  }
  // Independent accumulators hide the multiply-add latency: about 4 cycles on two pipes on
  // current x86 cores, so 8 of them, or as many as the output has.
  const possible = Math.ceil((axis?.extent ?? 1) / lanes) * plan.spatial.filter((a) => a !== axis).reduce((n, a) => n * a.extent, 1);
  const latency = Math.min(LATENCY_ACCUMULATORS, Math.floor(registers / 2), possible);
  if (vectors < latency) {
    return `register tile of ${vectors} vectors (level-3 factors) holds fewer than ${latency} independent accumulators`;
  }
  // Beyond that, a tile is worth measuring only where its operands cost about as few loads per
  // multiply-add as the best tile's do (gemm's outer product wants a big tile, with its reused
  // operands kept in registers; a depthwise convolution's input is loaded once per multiply-add
  // whatever the tile, so a small one loses nothing).
  const loads = operandLoadsPerFma(def, tile, axis?.name ?? null, lanes, registers);
  const least = leastOperandLoadsPerFma(def, axis?.name ?? null, lanes, registers - 1);
  if (loads > OPERAND_LOAD_SLACK * least) {
    return `register tile of ${vectors} vectors (level-3 factors) issues ${loads.toFixed(2)} operand loads per multiply-add in ${registers} registers, where the best tile issues ${least.toFixed(2)}`;
  }
  return null;
}

export const cpuTemplate: Template = makeCpuTemplate(true);
export const cpuClassicTemplate: Template = makeCpuTemplate(false);
