// When nothing measured is valid: a clear message for the user, shared by every explorer and by
// the tune loop (which may also check its own results with it).
import { FlexfarmError } from '../../contracts/errors.ts';
import type { MeasureResult } from '../../contracts/result.ts';

/** The search found no valid config; the message names the error codes seen and one example. */
export class NoValidConfigError extends FlexfarmError {
  override name = 'NoValidConfigError';
  readonly code = 'NO_VALID_CONFIG';
}

/** How many measurements without a single valid one before an explorer gives up. */
export function defaultGiveUpAfter(budget: number): number {
  return Math.max(20, Math.ceil(budget / 2));
}

/** "no valid config in 40 measurements (INSTANTIATION 38, RUN_TIMEOUT 2); first error: …". */
export function noValidConfigMessage(results: readonly MeasureResult[]): string {
  const counts = new Map<string, number>();
  let example: string | undefined;
  for (const r of results) {
    if (!r.error) continue;
    counts.set(r.error.code, (counts.get(r.error.code) ?? 0) + 1);
    example ??= `${r.error.code}: ${r.error.message}`;
  }
  const codes = [...counts].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  return `no valid config in ${results.length} measurements${codes ? ` (${codes})` : ''}`
    + (example ? `; first error: ${example}` : '');
}
