// What the search learned about each knob, per workload and device, from its valid measurements:
// - importance: the share of the variance of log GFLOP/s that the knob's values explain on their
//   own (the correlation ratio η² of each knob, normalised to sum to 1 over the knobs) — a main
//   effect, as fANOVA's first-order terms and Optuna's importance plot show it; knobs that
//   interact show less than their joint effect;
// - slices: performance against each knob's values (Optuna's slice plot, Kernel Tuner's
//   parameter plots): every measurement at its knob value, values in their natural order.
// Array-valued knobs (splits, unroll) are taken as one categorical value each.
import type { TuningRecord } from '../records.ts';

export interface KnobSlice {
  knob: string;
  /** Share of the explained variance (0..1; the shares of a study sum to 1 when any knob explains any). */
  importance: number;
  /** The knob's values, in order, with every measurement's figure (GFLOP/s, or 1/s without FLOPs). */
  values: { label: string; figures: number[] }[];
}

export interface KnobStudy {
  deviceKey: string;
  label: string;
  simulated: boolean;
  /** Valid measurements it is computed from. */
  measurements: number;
  /** Most important first. */
  knobs: KnobSlice[];
}

/** Fewer valid measurements than this say nothing about a knob. */
export const MIN_MEASUREMENTS = 6;

export function knobStudy(records: readonly TuningRecord[], flops: number | null, meta: Omit<KnobStudy, 'measurements' | 'knobs'>): KnobStudy | null {
  const valid = records.filter((r) => !r.error && r.median !== null && r.median > 0);
  if (valid.length < MIN_MEASUREMENTS) return null;
  const figure = (r: TuningRecord) => (flops === null ? 1 / r.median! : flops / r.median! / 1e9);
  const logs = valid.map((r) => Math.log(figure(r)));
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const total = logs.reduce((a, y) => a + (y - mean) ** 2, 0);
  const knobNames = [...new Set(valid.flatMap((r) => Object.keys(r.config)))].sort();
  const raw = knobNames.map((knob) => {
    const groups = new Map<string, { sort: unknown; logs: number[]; figures: number[] }>();
    valid.forEach((r, i) => {
      const v = r.config[knob];
      const label = v === undefined ? '—' : JSON.stringify(v);
      let g = groups.get(label);
      if (!g) groups.set(label, (g = { sort: v, logs: [], figures: [] }));
      g.logs.push(logs[i]);
      g.figures.push(figure(r));
    });
    // Between-group sum of squares over the total: the share explained by the knob alone.
    const between = [...groups.values()].reduce((a, g) => a + g.logs.length * (g.logs.reduce((x, y) => x + y, 0) / g.logs.length - mean) ** 2, 0);
    const eta2 = total > 0 && groups.size > 1 ? between / total : 0;
    const values = [...groups.entries()].sort((a, b) => compareValues(a[1].sort, b[1].sort)).map(([label, g]) => ({ label, figures: g.figures }));
    return { knob, eta2, values };
  });
  const sum = raw.reduce((a, k) => a + k.eta2, 0);
  const knobs = raw.map((k) => ({ knob: k.knob, importance: sum > 0 ? k.eta2 / sum : 0, values: k.values }))
    .sort((a, b) => b.importance - a.importance || a.knob.localeCompare(b.knob));
  return { ...meta, measurements: valid.length, knobs };
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return Number(a[i]) - Number(b[i]);
    return a.length - b.length;
  }
  return JSON.stringify(a ?? null).localeCompare(JSON.stringify(b ?? null));
}
