// The live page's axis ticks: the axis always reaches the largest value (a best-so-far curve above
// the top tick would be drawn outside the plot), with 1-2-5 steps.
import { expect, test } from 'vitest';
// @ts-expect-error -- plain browser JavaScript served to the page, without type declarations
import { niceTicks } from '../../dashboards/web/svg-chart.js';

test('ticks start at the minimum, step by 1, 2, 2.5 or 5 times a power of ten, and end at or above the maximum', () => {
  for (const max of [0.37, 1, 7, 99.9, 100, 125, 135.2, 222.85, 999, 1001, 48_000]) {
    const { ticks, step } = niceTicks(0, max) as { ticks: number[]; step: number };
    expect(ticks[0]).toBe(0);
    expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max);
    expect(ticks.at(-1)! - step).toBeLessThan(max);
    expect(ticks.length).toBeLessThanOrEqual(8);
    const mantissa = step / 10 ** Math.floor(Math.log10(step));
    expect([1, 2, 2.5, 5]).toContain(Number(mantissa.toPrecision(6)));
  }
});
