// One interface for every search method. Deterministic for a given seed and sequence of results.
import type { Config } from '../../tensor/templates/template.ts';
import type { MeasureResult } from '../../agent/result.ts';

export interface Explorer {
  readonly name: string;
  /** Up to `n` configs never proposed before; fewer (or none) when the method is done. */
  next(n: number): Config[];
  /** Feed back measurements (failures included: they steer away). */
  update(results: MeasureResult[]): void;
  /** True when the method has stopped by itself (early stop, exhausted space). */
  readonly done: boolean;
}
