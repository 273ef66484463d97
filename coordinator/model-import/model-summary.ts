// A model's layers as its tuning log has them: each layer's best kernel and unscheduled
// reference on one device, and the model's total for its tunable layers (time x count).
import { bestPerWorkloadDevice, type BestEntry } from '../best.ts';
import { RecordLog } from '../records.ts';
import type { ModelLayer } from './model-layers.ts';

export interface LayerSummary {
  layer: ModelLayer;
  best: BestEntry | null;
  /** Measurements of this layer in the log on this target. */
  measurements: number;
}

export interface ModelSummary {
  rows: LayerSummary[];
  /** Σ best seconds × count over the layers with a best; `complete` when every layer has one. */
  totalSeconds: number;
  /** Σ reference seconds × count, over the layers whose reference the log holds. */
  referenceSeconds: number;
  complete: boolean;
  referenceComplete: boolean;
}

/** `deviceKey` picks the device when several measured the same target; else the fastest. */
export function summarizeModel(layers: readonly ModelLayer[], recordsPath: string, target: string, deviceKey?: string): ModelSummary {
  const log = RecordLog.open(recordsPath, { warn: () => {} });
  const rows = layers.map((layer) => {
    const entries = bestPerWorkloadDevice(log.all(), log.references(), { workload: layer.workload, target }, log.remeasures());
    const best = entries.find((e) => e.deviceKey === deviceKey) ?? entries[0] ?? null;
    return { layer, best, measurements: log.select(layer.workload, target).length };
  });
  const timed = rows.filter((r) => r.best);
  const referenced = rows.filter((r) => r.best?.reference);
  return {
    rows,
    totalSeconds: timed.reduce((s, r) => s + r.best!.seconds * r.layer.count, 0),
    referenceSeconds: referenced.reduce((s, r) => s + r.best!.reference!.seconds * r.layer.count, 0),
    complete: timed.length === rows.length,
    referenceComplete: referenced.length === rows.length,
  };
}
