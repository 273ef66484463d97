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
    lower: (def: ComputeDef, config: Config) => lowerCpu(def, planCpu(def, config, layoutKnobs)),
  };
}

export const cpuTemplate: Template = makeCpuTemplate(true);
export const cpuClassicTemplate: Template = makeCpuTemplate(false);
