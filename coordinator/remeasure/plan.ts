// Which configs are re-measured after a search, and in what order: the top k distinct configs by
// their search median (failures and estimates never: an estimate does not change when repeated),
// each measured once per round for several rounds, interleaved and rotated (round r starts at the
// r-th config), so that no config always runs first after a burst of compiles, or always last.
import type { MeasureResult } from '../../contracts/result.ts';
import type { Config } from '../../tensor/templates/template.ts';
import { configKey, deviceKey } from '../keys.ts';

/** Re-measure the top 5 (`--remeasure K`; 0: off), three rounds each. */
export const DEFAULT_REMEASURE = 5;
export const DEFAULT_REMEASURE_ROUNDS = 3;
/** Most configs one run may ask to re-measure. */
export const MAX_REMEASURE = 100;

export interface RemeasureConfig {
  config: Config;
  key: string;
  /** Candidate id of the search measurement it was chosen by. */
  of: string;
  /** The device that measured it: re-measurements go to that device (dispatcher pinning). */
  device: string;
  searchSeconds: number;
}

export interface RemeasureSlot {
  /** Index into the plan's configs. */
  index: number;
  round: number;
}

export interface RemeasurePlan {
  configs: RemeasureConfig[];
  /** In the order they are to be measured. */
  slots: RemeasureSlot[];
}

const timed = (r: MeasureResult) => !r.error && !r.estimated && r.median !== null && Number.isFinite(r.median) && r.median > 0;

export function planRemeasure(pool: readonly MeasureResult[], count: number, rounds: number): RemeasurePlan {
  const bestOf = new Map<string, { r: MeasureResult; order: number }>();
  pool.forEach((r, order) => {
    if (!timed(r)) return;
    const key = configKey(r.config);
    const seen = bestOf.get(key);
    if (!seen || r.median! < seen.r.median!) bestOf.set(key, { r, order: seen?.order ?? order });
  });
  const top = [...bestOf.entries()].sort(([, a], [, b]) => a.r.median! - b.r.median! || a.order - b.order).slice(0, Math.max(0, count));
  const configs = top.map(([key, { r }]): RemeasureConfig => ({ config: r.config, key, of: r.candidateId, device: deviceKey(r), searchSeconds: r.median! }));
  const slots: RemeasureSlot[] = [];
  for (let round = 0; round < rounds && configs.length; round++) {
    for (let i = 0; i < configs.length; i++) slots.push({ index: (i + round) % configs.length, round });
  }
  return { configs, slots };
}
