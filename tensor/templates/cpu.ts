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
//   pad.<T>    guarded input T read from a zero-padded copy, with no guard in the loops.
//
// Tails of imperfect splits are guarded: a register tile that fits entirely takes a
// constant-extent path the compiler can unroll and vectorise; only edge tiles take the bounded one.
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import { packableInputs, stageableInputs, vectorAxes } from './cpu-layout.ts';
import { lowerCpu } from './cpu-lower.ts';
import { CPU_REDUCE_PARTS, CPU_SPATIAL_PARTS, LAYOUT_ENTITIES, planCpu, REORDER_ENTITIES, UNROLL_ENTITIES } from './cpu-plan.ts';
import { splitKnobs } from './split.ts';
import type { Config, DeviceLimits, Knob, Template, TemplateOptions } from './template.ts';

export { CPU_REDUCE_PARTS, CPU_SPATIAL_PARTS, planCpu, REORDER_ENTITIES, UNROLL_ENTITIES } from './cpu-plan.ts';
export const DEFAULT_MAX_ACCUMULATOR = 4096;

/** The CPU template. `layoutKnobs: false` is FlexTensor's original space (splits, reorder,
 *  unroll), which the sim target's landscape models. */
function makeCpuTemplate(layoutKnobs: boolean): Template {
  return {
    target: 'cpu',
    knobs(def: ComputeDef, options: TemplateOptions = {}): Knob[] {
      const exact = options.exactSplits ?? false;
      const layout: Knob[] = !layoutKnobs ? [] : [
        ...(vectorAxes(def).length ? [{ name: 'vector', kind: 'choice' as const, entities: vectorAxes(def) }] : []),
        ...packableInputs(def).map((t): Knob => ({ name: `pack.${t}`, kind: 'choice', entities: LAYOUT_ENTITIES })),
        ...stageableInputs(def).map((s): Knob => ({ name: `pad.${s.tensor}`, kind: 'choice', entities: LAYOUT_ENTITIES })),
      ];
      return [
        ...splitKnobs(def, CPU_SPATIAL_PARTS, CPU_REDUCE_PARTS, exact),
        { name: 'reorder', kind: 'choice', entities: REORDER_ENTITIES },
        { name: 'unroll', kind: 'choice', entities: UNROLL_ENTITIES },
        ...layout,
      ];
    },
    check(def: ComputeDef, config: Config, limits: DeviceLimits): void {
      const plan = planCpu(def, config, layoutKnobs);
      const tile = plan.spatial.reduce((n, a) => n * a.factors[3], 1);
      const maxAcc = limits.maxAccumulator ?? DEFAULT_MAX_ACCUMULATOR;
      if (tile > maxAcc) {
        throw new InstantiationError(`register tile of ${tile} floats (level-3 factors) exceeds the limit of ${maxAcc}`);
      }
    },
    unpromising: (def, config, limits) => (layoutKnobs ? registerTileProblem(planCpu(def, config, layoutKnobs), limits) : null),
    lower: (def: ComputeDef, config: Config) => lowerCpu(def, planCpu(def, config, layoutKnobs)),
  };
}

/** With the host's vector width, register count and threads: the tile is whole vectors along the
 *  vector axis (partial vectors run scalar), its accumulators fit the register file (beyond it
 *  they spill to memory on every multiply-add), and the parallel level has work for every thread. */
function registerTileProblem(plan: ReturnType<typeof planCpu>, limits: DeviceLimits): string | null {
  const lanes = limits.vectorWidth, registers = limits.vectorRegisters;
  if (typeof lanes !== 'number' || typeof registers !== 'number' || lanes < 2) return null;
  const axis = plan.vectorAxis;
  const width = axis?.factors[3] ?? 1;
  if (axis && axis.extent >= lanes && width % lanes !== 0) {
    return `knob 'split.${axis.name}': the vector axis's level-3 factor ${width} is not a whole number of ${lanes}-float vectors`;
  }
  const threads = limits.threads;
  const tiles = plan.spatial.reduce((n, a) => n * a.factors[0], 1);
  if (typeof threads === 'number' && tiles < threads && plan.spatial.reduce((n, a) => n * a.extent, 1) >= threads) {
    return `knobs 'split.*': the level-0 factors give ${tiles} parallel tile(s), fewer than the ${threads} threads that run the kernel`;
  }
  const vectors = Math.ceil(width / lanes) * plan.spatial.filter((a) => a !== axis).reduce((n, a) => n * a.factors[3], 1);
  if (vectors > registers) {
    return `register tile of ${vectors} vectors (level-3 factors) exceeds the ${registers} vector registers of the host`;
  }
  return null;
}

export const cpuTemplate: Template = makeCpuTemplate(true);
export const cpuClassicTemplate: Template = makeCpuTemplate(false);
