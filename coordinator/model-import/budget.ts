// Spreading a model's measurement budget over its layers: each gets a floor, the rest goes by
// FLOP share (largest remainders), so the layers that dominate the model's time get the search.
import { FlexfarmError } from '../../contracts/errors.ts';

export class BudgetError extends FlexfarmError {
  override name = 'BudgetError';
  readonly code = 'BUDGET_TOO_SMALL';
}

/** Measurements per layer, in the layers' order; they add up to `trials`. Deterministic, so a
 *  resumed run plans the same budget and goes on where it stopped. */
export function planBudget(shares: readonly number[], trials: number, floor: number): number[] {
  const needed = shares.length * floor;
  if (trials < needed) {
    throw new BudgetError(`--trials ${trials} is below the floor: ${shares.length} layers x ${floor} measurements need at least ${needed} (or lower --min-trials)`);
  }
  const spare = trials - needed;
  const total = shares.reduce((a, b) => a + b, 0) || 1;
  const exact = shares.map((s) => (spare * s) / total);
  const plan = exact.map((e) => floor + Math.floor(e));
  let left = trials - plan.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, rest: e - Math.floor(e) })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    plan[i]++;
    left--;
  }
  return plan;
}
