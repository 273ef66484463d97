// FlexTensor's unroll knob, the same on CPU and GPU: its sub-space, its check, and the rule by
// which the lowering unrolls a loop (TVM's auto_unroll_max_step).
import { shown } from '../quote.ts';
import { InstantiationError } from '../errors.ts';
import type { Config } from './template.ts';

/** FlexTensor's unroll sub-space: [max unrolled body size, also unroll reduce loops]. */
export const UNROLL_ENTITIES: number[][] = [[0, 0], [0, 1], [1, 0], [1, 1], [512, 0], [512, 1], [1500, 0], [1500, 1]];

export interface UnrollPlan {
  unrollMaxStep: number;
  unrollReduce: boolean;
}

/** The `unroll` knob of a config, checked against its sub-space. */
export function planUnroll(config: Config): UnrollPlan {
  const unroll = config.unroll;
  if (!Array.isArray(unroll) || unroll.length !== 2 || !UNROLL_ENTITIES.some((u) => u[0] === unroll[0] && u[1] === unroll[1])) {
    throw new InstantiationError(`knob 'unroll' must be one of ${JSON.stringify(UNROLL_ENTITIES)}, got ${shown(unroll)}`);
  }
  return { unrollMaxStep: unroll[0], unrollReduce: unroll[1] === 1 };
}

/** The unroll hint of a loop of `extent` whose unrolled body would be `bodySize` points: max step
 *  0 leaves it to the compiler, 1 forbids unrolling, else unroll in full while within the step. */
export function unrollStep(plan: UnrollPlan, bodySize: number, extent: number): number | undefined {
  if (plan.unrollMaxStep === 0) return undefined;
  if (plan.unrollMaxStep === 1) return 1;
  return bodySize <= plan.unrollMaxStep ? extent : undefined;
}
