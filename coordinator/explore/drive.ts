// A synchronous driver for search benchmarks and tests: next → measure → update until the
// budget is spent or the explorer stops. The real tune loop (coordinator/tune.ts) does the same
// with an asynchronous backend, records and progress.
import type { MeasureResult } from '../../contracts/result.ts';
import type { Config } from '../../tensor/templates/template.ts';
import type { Explorer } from './explorer.ts';

export interface DriveResult {
  results: MeasureResult[];
  /** Best valid median after each measurement (Infinity while none is valid). */
  bestAfter: number[];
  stopReason?: string;
  failed: boolean;
}

export function drive(explorer: Explorer, measure: (config: Config, index: number) => MeasureResult, budget: number, batch = 8): DriveResult {
  const results: MeasureResult[] = [];
  const bestAfter: number[] = [];
  let best = Infinity;
  while (results.length < budget && !explorer.done) {
    const configs = explorer.next(Math.min(batch, budget - results.length));
    if (!configs.length) break;
    const measured = configs.map((c) => measure(c, results.length));
    for (const r of measured) {
      results.push(r);
      if (!r.error && r.median !== null && r.median < best) best = r.median;
      bestAfter.push(best);
    }
    explorer.update(measured);
  }
  return { results, bestAfter, stopReason: explorer.stopReason, failed: explorer.failed ?? false };
}

/** The same loop over an asynchronous measurement (a real backend), one batch at a time. */
export async function driveAsync(
  explorer: Explorer, measure: (config: Config, index: number) => Promise<MeasureResult>, budget: number, batch = 1,
): Promise<DriveResult> {
  const results: MeasureResult[] = [];
  const bestAfter: number[] = [];
  let best = Infinity;
  while (results.length < budget && !explorer.done) {
    const configs = explorer.next(Math.min(batch, budget - results.length));
    if (!configs.length) break;
    const measured: MeasureResult[] = [];
    for (const c of configs) measured.push(await measure(c, results.length + measured.length));
    for (const r of measured) {
      results.push(r);
      if (!r.error && r.median !== null && r.median < best) best = r.median;
      bestAfter.push(best);
    }
    explorer.update(measured);
  }
  return { results, bestAfter, stopReason: explorer.stopReason, failed: explorer.failed ?? false };
}
