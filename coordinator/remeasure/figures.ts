// The figure a config is known by once re-measured, and the best of a workload on one device.
// A config's re-measured figure is the median of its re-measurements' medians (each one run of the
// timing protocol in a fresh process). The best is the re-measured config with the lowest figure —
// unless a config never re-measured beats every re-measured one on its search figure (it was
// measured after the re-measuring, e.g. by a later run with --remeasure 0): the re-measured ones
// were the top k when they were chosen, and it would have been among them.
import { median, type MeasureResult } from '../../contracts/result.ts';
import { configKey } from '../keys.ts';

export interface RemeasuredFigure {
  /** Median over the valid re-measurements. */
  seconds: number;
  /** Valid re-measurements behind it. */
  runs: number;
}

export interface ChosenBest<T extends MeasureResult> {
  /** The search measurement of the chosen config (its fastest, when measured more than once). */
  record: T;
  /** The figure it is known by: re-measured when it was, else its search median. */
  seconds: number;
  remeasured: { seconds: number; runs: number; searchSeconds: number } | null;
}

const valid = (r: MeasureResult) => !r.error && r.median !== null && Number.isFinite(r.median) && r.median > 0;

export function remeasuredFigures(remeasures: readonly MeasureResult[]): Map<string, RemeasuredFigure> {
  const medians = new Map<string, number[]>();
  for (const r of remeasures) {
    if (!valid(r)) continue;
    const key = configKey(r.config);
    const list = medians.get(key);
    if (list) list.push(r.median!); else medians.set(key, [r.median!]);
  }
  return new Map([...medians].map(([key, list]) => [key, { seconds: median(list)!, runs: list.length }]));
}

/** The best of one workload on one device: `search` its measurement lines, `remeasures` its re-measurement lines. */
export function chooseBest<T extends MeasureResult>(search: readonly T[], remeasures: readonly MeasureResult[] = []): ChosenBest<T> | null {
  const fastest = new Map<string, T>();
  for (const r of search) {
    if (!valid(r)) continue;
    const key = configKey(r.config);
    const seen = fastest.get(key);
    if (!seen || r.median! < seen.median!) fastest.set(key, r);
  }
  if (!fastest.size) return null;
  const figures = remeasuredFigures(remeasures);
  const tried = new Set(remeasures.map((r) => configKey(r.config)));
  let byFigure: { record: T; figure: RemeasuredFigure } | null = null;
  let searchFloor = Infinity; // the best search figure among the re-measured configs
  let newcomer: T | null = null; // the best search figure among the others
  for (const [key, record] of fastest) {
    if (!tried.has(key)) {
      if (!newcomer || record.median! < newcomer.median!) newcomer = record;
      continue;
    }
    searchFloor = Math.min(searchFloor, record.median!);
    const figure = figures.get(key);
    if (figure && (!byFigure || figure.seconds < byFigure.figure.seconds)) byFigure = { record, figure };
  }
  if (byFigure && !(newcomer && newcomer.median! < searchFloor)) {
    const { record, figure } = byFigure;
    return { record, seconds: figure.seconds, remeasured: { seconds: figure.seconds, runs: figure.runs, searchSeconds: record.median! } };
  }
  const plain = newcomer ?? [...fastest.values()].reduce((a, b) => (b.median! < a.median! ? b : a));
  return { record: plain, seconds: plain.median!, remeasured: null };
}
