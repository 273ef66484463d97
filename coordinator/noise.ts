// How noisy the host was during a run, from its results: the spread of every result's repeats
// (coefficient of variation), how many were timed again for being too noisy, and the load average
// when each was timed and before the run began. `tune` ends with this line; a loaded or noisy
// host gets a warning, not silence.
import { median, type MeasureResult } from '../contracts/result.ts';

/** A median spread of repeats above 5 % is called noisy. */
export const NOISY_CV = 0.05;
/** Loaded: a load average above half the cores before the run (other work was running), or above
 *  1.5x the cores while timing (a timing run itself accounts for up to one per thread). */
export const LOADED_BEFORE_PER_CORE = 0.5;
export const LOADED_WHILE_TIMING_PER_CORE = 1.5;

export interface NoiseSummary {
  /** Results with a spread (valid, timed). */
  timed: number;
  /** Coefficient of variation of the repeats: median and worst over the results. */
  cv: { median: number; max: number } | null;
  /** Results timed again with more repeats because their first spread was too wide. */
  retimed: number;
  /** 1-minute load average when each result was timed; null when nothing was timed on this host. */
  loadAverage: { min: number; median: number; max: number } | null;
  /** 1-minute load average before the run began; null when not known. */
  loadBefore: number | null;
  cores: number;
  noisy: boolean;
  loaded: boolean;
  /** What the warnings say, one per line; empty on a quiet host. */
  warnings: string[];
}

export function summariseNoise(results: readonly MeasureResult[], host: { loadBefore?: number; cores: number }): NoiseSummary {
  // A result may come from another process: only finite, non-negative figures count.
  const figure = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  const cvs = results.flatMap((r) => (figure(r.spread?.cv) ? [r.spread!.cv] : []));
  const loads = results.flatMap((r) => (figure(r.loadAverage) ? [r.loadAverage] : []));
  const cv = cvs.length ? { median: median(cvs)!, max: Math.max(...cvs) } : null;
  const loadAverage = loads.length ? { min: Math.min(...loads), median: median(loads)!, max: Math.max(...loads) } : null;
  const loadBefore = loadAverage && host.loadBefore !== undefined ? host.loadBefore : null;
  const warnings: string[] = [];
  const noisy = cv !== null && cv.median > NOISY_CV;
  if (noisy) warnings.push(`timings were noisy: the repeats of a result scattered by ${pct(cv.median)} (median; worst ${pct(cv.max)}); figures may not reproduce`);
  let loaded = false;
  if (loadBefore !== null && loadBefore > LOADED_BEFORE_PER_CORE * host.cores) {
    loaded = true;
    warnings.push(`the host was loaded before tuning began (load average ${loadBefore.toFixed(2)} on ${host.cores} cores): other work competes with the timing runs`);
  }
  if (loadAverage && loadAverage.median > LOADED_WHILE_TIMING_PER_CORE * host.cores) {
    loaded = true;
    warnings.push(`the host was loaded while timing (load average ${loadAverage.median.toFixed(2)} median on ${host.cores} cores)`);
  }
  return { timed: cvs.length, cv, retimed: results.filter((r) => r.retimed).length, loadAverage, loadBefore, cores: host.cores, noisy, loaded, warnings };
}

/** One line: "host noise: repeats scatter 1.2 % (median), 4.0 % (worst); 2 of 60 re-timed; load average 0.4–2.1 (before: 0.3) on 2 cores". */
export function describeNoise(n: NoiseSummary): string {
  if (!n.cv) return 'host noise: nothing was timed';
  const parts = [`repeats scatter ${pct(n.cv.median)} (median), ${pct(n.cv.max)} (worst)`, `${n.retimed} of ${n.timed} re-timed`];
  if (n.loadAverage) {
    const range = n.loadAverage.min === n.loadAverage.max ? n.loadAverage.min.toFixed(2) : `${n.loadAverage.min.toFixed(2)}–${n.loadAverage.max.toFixed(2)}`;
    parts.push(`load average ${range}${n.loadBefore === null ? '' : ` (before: ${n.loadBefore.toFixed(2)})`} on ${n.cores} cores`);
  } else parts.push('not timed on this host (modelled repeats)');
  return `host noise: ${parts.join('; ')}${n.loaded ? ' — LOADED' : n.noisy ? ' — NOISY' : ''}`;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
