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
import type { Stmt } from '../ir.ts';
import { lowerGpu } from './gpu-lower.ts';
import { checkGeometry, fuseEntities, GPU_REDUCE_PARTS, GPU_REORDER_ENTITIES, GPU_SPATIAL_PARTS, gpuGeometry, gpuLimits, planGpu } from './gpu-plan.ts';
import { splitKnobs } from './split.ts';
import type { Config, DeviceLimits, Knob, Template, TemplateOptions } from './template.ts';
import { UNROLL_ENTITIES } from './unroll.ts';

export {
  checkGeometry, DEFAULT_GPU_LIMITS, fuseEntities, GPU_REDUCE_PARTS, GPU_REORDER_ENTITIES, GPU_SPATIAL_PARTS, gpuGeometry, gpuLimits, planGpu,
  type GpuGeometry, type GpuLimits, type GpuPlan,
} from './gpu-plan.ts';

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
