// One interface for every search method. Deterministic for a given seed and sequence of results.
import type { MeasureResult } from '../../contracts/result.ts';
import type { Config } from '../../tensor/templates/template.ts';

export interface Explorer {
  readonly name: string;
  /** Up to `n` configs never proposed before; fewer (or none) when the method is done.
   *  A method that needs earlier results before it can go on returns fewer than `n` (possibly
   *  none, with `done` still false) until those results arrive through `update`. */
  next(n: number): Config[];
  /** Feed back measurements (failures included: they steer away). */
  update(results: MeasureResult[]): void;
  /** True when the method has stopped by itself (early stop, exhausted space). */
  readonly done: boolean;
  /** Why the method stopped, once `done` (e.g. "no valid config in 50 measurements (…)"). */
  readonly stopReason?: string;
  /** True when it stopped because nothing measured was valid: the caller should report failure. */
  readonly failed?: boolean;
  /** Factor the caller should apply to its run timeout (FlexTensor doubles it, up to 8x, when a
   *  warm-up found nothing valid and some candidates timed out). 1 when absent. */
  readonly timeoutMultiplier?: number;
  /** Already-measured configs the method wants timed again (FlexTensor's periodic re-measure of
   *  its top 10); optional for the caller. Their results come back through `update`.
   *  The campaign does not call it: every method's winners are re-measured once its search has
   *  ended (coordinator/remeasure/), in fresh processes, outside the budget. Re-measuring in the
   *  middle of the search would spend the budget on configs already measured, for one method only,
   *  and hand the explorer a second noisy figure of a point as if it were the point's true one. */
  remeasure?(): Config[];
}
