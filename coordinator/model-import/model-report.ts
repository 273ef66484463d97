// `model report`'s figures: per layer, the best kernel in the log measured again now, the
// unscheduled reference and a library (oneDNN) at the same shape, all with one timing protocol on
// this host; and the model's totals for its tunable layers (each layer's time x its count).
import type { Backend, LibraryMeasure, LibraryTiming } from '../../contracts/backend.ts';
import { FlexfarmError } from '../../contracts/errors.ts';
import { DEFAULT_PROTOCOL, type TimingProtocol } from '../../contracts/result.ts';
import type { ComputeDef } from '../../tensor/compute.ts';
import { defineFromKey } from '../../tensor/ops/registry.ts';
import type { Config } from '../../tensor/templates/template.ts';
import { deviceKey } from '../keys.ts';
import type { ModelLayer, ModelLayers } from './model-layers.ts';
import { summarizeModel } from './model-summary.ts';

/** A library's time for a workload, or why there is none (not installed, no kernel for the op):
 *  the agents' type (contracts/backend.ts). */
export type { LibraryMeasure, LibraryTiming } from '../../contracts/backend.ts';

export class NothingToReportError extends FlexfarmError {
  override name = 'NothingToReportError';
  readonly code = 'NOTHING_TO_REPORT';
}

export interface LayerReport {
  layer: ModelLayer;
  config: Config | null;
  /** Seconds of one run, measured now; null (with `error`) when there is no best or it failed. */
  ours: number | null;
  /** The best's figure in the log (re-measured where it was). */
  recorded: number | null;
  reference: number | null;
  library: LibraryTiming;
  measurements: number;
  error?: string;
}

export interface ModelReport {
  model: string;
  target: string;
  device: string;
  rows: LayerReport[];
  /** Σ seconds x count, each over the layers where that figure exists. */
  totals: { ours: number; reference: number; library: number; libraryName: string | null };
  /** The layers every total covers; the ratios are over these alone. */
  compared: number;
  /** Σ x count over the compared layers: ours, the library, the reference. */
  comparedTotals: { ours: number; library: number; reference: number };
}

export interface ModelReportOptions {
  model: ModelLayers;
  recordsPath: string;
  backend: Backend;
  library: LibraryMeasure;
  protocol?: TimingProtocol;
  onLayer?: (done: number, total: number) => void;
}

export async function reportModel(o: ModelReportOptions): Promise<ModelReport> {
  const { backend } = o;
  const protocol = o.protocol ?? DEFAULT_PROTOCOL;
  const device = deviceKey({ target: backend.kind, device: backend.describe() });
  const summary = summarizeModel(o.model.layers, o.recordsPath, backend.kind, device);
  if (!summary.rows.some((r) => r.best)) {
    throw new NothingToReportError(`${o.recordsPath} holds no valid measurement of ${o.model.path}'s layers on ${backend.kind} (tune them with flexfarm model tune)`);
  }
  const rows: LayerReport[] = [];
  for (const [i, r] of summary.rows.entries()) {
    const def = defineFromKey(r.layer.workload);
    const base = { layer: r.layer, config: r.best?.config ?? null, recorded: r.best?.seconds ?? null, measurements: r.measurements };
    const timed = (await backend.reference(def, protocol)).seconds;
    const reference = Number.isFinite(timed) && timed > 0 ? timed : null;
    const library = await o.library(def, protocol);
    if (!r.best) {
      rows.push({ ...base, ours: null, reference, library, error: 'no valid schedule in the log' });
    } else {
      const result = await backend.measure({ id: `model-report/${i}`, workload: def.key, target: backend.kind, config: r.best.config }, protocol);
      const error = result.error ? `${result.error.code}: ${result.error.message}` : undefined;
      rows.push({ ...base, ours: result.median, reference, library, ...(error ? { error } : {}) });
    }
    o.onLayer?.(i + 1, summary.rows.length);
  }
  const sum = (pick: (r: LayerReport) => number | null, among = rows) => among.reduce((s, r) => s + (pick(r) ?? 0) * r.layer.count, 0);
  const lib = (r: LayerReport) => ('seconds' in r.library ? r.library.seconds : null);
  const compared = rows.filter((r) => r.ours !== null && lib(r) !== null && r.reference !== null);
  const named = rows.map((r) => ('library' in r.library ? r.library.library : null)).find((n) => n) ?? null;
  return {
    model: o.model.path, target: backend.kind, device, rows,
    totals: { ours: sum((r) => r.ours), reference: sum((r) => r.reference), library: sum(lib), libraryName: named },
    compared: compared.length,
    comparedTotals: { ours: sum((r) => r.ours, compared), library: sum(lib, compared), reference: sum((r) => r.reference, compared) },
  };
}
