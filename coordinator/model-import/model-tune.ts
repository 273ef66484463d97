// Tuning a whole model: every distinct layer with its share of the budget, in one tuning log.
// A layer's measurements already in the log count against its share, so a run that was
// interrupted (even killed) and started again goes on where it stopped.
import type { Backend } from '../../contracts/backend.ts';
import { defineFromKey } from '../../tensor/ops/registry.ts';
import { NoValidScheduleError, type TuneOptions, type TuneOutcome, type TuneProgress } from '../tune.ts';
import { RecordLog } from '../records.ts';
import { planBudget } from './budget.ts';
import type { ModelLayer, ModelLayers } from './model-layers.ts';

export interface ModelTuneOptions {
  model: ModelLayers;
  backend: Backend;
  /** Measurements for the whole model. */
  trials: number;
  /** Measurements every layer gets at least. */
  minTrials: number;
  recordsPath: string;
  /** A folder per layer under it holds that layer's best kernel. */
  outDir: string;
  explorer?: string;
  seed?: number;
  remeasure?: number;
  warn?: (message: string) => void;
  onLayerStart?: (event: LayerEvent) => void;
  onLayerEnd?: (event: LayerEvent & { outcome: LayerOutcome }) => void;
  onProgress?: (event: LayerEvent, progress: TuneProgress) => void;
}

export interface LayerEvent {
  index: number;
  layers: number;
  layer: ModelLayer;
  /** This layer's share of the budget, and what the log held of it before this run. */
  planned: number;
  logged: number;
  /** Measurements of the whole model: in the log before this layer started, and planned. */
  overallDone: number;
  overallPlanned: number;
}

export type LayerOutcome =
  | { status: 'tuned'; measured: number; tune: TuneOutcome }
  | { status: 'done-before'; measured: 0 }
  | { status: 'failed'; measured: number; message: string };

export interface ModelTuneOutcome {
  layers: { layer: ModelLayer; planned: number; logged: number; outcome: LayerOutcome }[];
  recordsPath: string;
}

type TuneLayer = (options: TuneOptions) => Promise<TuneOutcome>;

export async function tuneModel(options: ModelTuneOptions, tuneLayer: TuneLayer): Promise<ModelTuneOutcome> {
  const { model, backend } = options;
  const plan = planBudget(model.layers.map((l) => l.share), options.trials, options.minTrials);
  const log = RecordLog.open(options.recordsPath, { warn: options.warn });
  const logged = model.layers.map((l, i) => Math.min(plan[i], log.select(l.workload, backend.kind).length));
  let overallDone = logged.reduce((a, b) => a + b, 0);
  const layers: ModelTuneOutcome['layers'] = [];
  for (const [index, layer] of model.layers.entries()) {
    const event: LayerEvent = { index, layers: model.layers.length, layer, planned: plan[index], logged: logged[index], overallDone, overallPlanned: options.trials };
    const remaining = plan[index] - logged[index];
    if (remaining <= 0) {
      const outcome: LayerOutcome = { status: 'done-before', measured: 0 };
      options.onLayerEnd?.({ ...event, outcome });
      layers.push({ layer, planned: plan[index], logged: logged[index], outcome });
      continue;
    }
    options.onLayerStart?.(event);
    let outcome: LayerOutcome;
    try {
      const tune = await tuneLayer({
        def: defineFromKey(layer.workload), backend, trials: remaining, explorer: options.explorer, seed: (options.seed ?? 0) + index,
        recordsPath: options.recordsPath, outDir: `${options.outDir}/layer-${String(index + 1).padStart(2, '0')}-${layer.op}`,
        remeasure: options.remeasure, warn: options.warn,
        onProgress: (p) => options.onProgress?.(event, p),
      });
      outcome = { status: 'tuned', measured: tune.trials, tune };
    } catch (err) {
      // One layer without a valid schedule does not stop the others; it is reported.
      if (!(err instanceof NoValidScheduleError)) throw err;
      outcome = { status: 'failed', measured: remaining, message: err.message };
    }
    overallDone += outcome.measured;
    options.onLayerEnd?.({ ...event, overallDone, outcome });
    layers.push({ layer, planned: plan[index], logged: logged[index], outcome });
  }
  return { layers, recordsPath: options.recordsPath };
}
