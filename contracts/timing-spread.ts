// The spread of a result's repeats, carried by every timed result so that noise is shown, not
// hidden: min, median and max of the per-repeat seconds and their coefficient of variation
// (sample standard deviation / mean; 0 for a single repeat).
import { median } from './result.ts';

export interface TimingSpread {
  min: number;
  median: number;
  max: number;
  /** Coefficient of variation of the repeats: 0.05 = the repeats scatter by about 5 %. */
  cv: number;
}

/** The spread of per-repeat seconds; undefined when there are none. */
export function timingSpread(seconds: readonly number[]): TimingSpread | undefined {
  if (!seconds.length) return undefined;
  const sorted = [...seconds].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  const variance = sorted.length > 1 ? sorted.reduce((s, x) => s + (x - mean) ** 2, 0) / (sorted.length - 1) : 0;
  return { min: sorted[0], median: median(sorted)!, max: sorted[sorted.length - 1], cv: mean > 0 ? Math.sqrt(variance) / mean : 0 };
}
