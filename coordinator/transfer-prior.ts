// Transfer to a learned cost model (issue 17): the measurements of the nearest workloads in a
// tuning log (transfer.ts's sources: the same operator at other shapes, or other devices), each
// config adapted to the new workload's space and timed relative to the best of its own source,
// for the `model` explorer to train on before the new workload has measurements of its own
// (explorer option `prior`). TVM's XGBoost tuner transfers the same way, from the records of
// other tasks; here the features are already shape-relative (log2 of a factor over log2 of its
// extent), so an adapted config lands where its source's tiles were.
import type { ComputeDef } from '../tensor/compute.ts';
import { InstantiationError } from '../tensor/errors.ts';
import type { DeviceLimits, Template } from '../tensor/templates/template.ts';
import type { PriorMeasurement } from './explore/batch-explorer.ts';
import { configKey } from './keys.ts';
import type { TuningRecord } from './records.ts';
import { adaptConfig, transferSources, type TransferOptions } from './transfer.ts';

export interface PriorOptions extends Omit<TransferOptions, 'count' | 'exclude'> {
  /** Measurements taken from each source at most, fastest first (default 400). */
  perSource?: number;
}

const DEFAULT_PER_SOURCE = 400;

/** Each source's valid measurements (fastest first), adapted and valid under the limits; a config
 *  that several measurements adapt to keeps the fastest of them. */
export function transferPrior(records: readonly TuningRecord[], def: ComputeDef, template: Template, limits: DeviceLimits, options: PriorOptions): PriorMeasurement[] {
  const knobs = template.knobs(def);
  const kept = new Map<string, PriorMeasurement>();
  for (const source of transferSources(records, def, options).slice(0, options.sources ?? 3)) {
    const best = source.ranked[0]?.median;
    if (!best) continue;
    for (const record of source.ranked.slice(0, options.perSource ?? DEFAULT_PER_SOURCE)) {
      const config = adaptConfig(record.config, knobs);
      const key = configKey(config);
      const relativeLogSeconds = Math.log(record.median! / best);
      const seen = kept.get(key);
      if (seen && seen.relativeLogSeconds <= relativeLogSeconds) continue;
      try {
        template.check(def, config, limits);
      } catch (err) {
        if (err instanceof InstantiationError) continue;
        throw err;
      }
      kept.set(key, { config, relativeLogSeconds });
    }
  }
  return [...kept.values()];
}
