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

test('log-axis ticks: whole decades around the data, with 2 and 5 between under three decades', async () => {
  // @ts-expect-error -- plain browser JavaScript
  const { logTicks } = await import('../../dashboards/web/svg-chart.js');
  expect(logTicks(6.6, 82)).toEqual({ ticks: [1, 2, 5, 10, 20, 50, 100], min: 1, max: 100 });
  expect(logTicks(6.6, 822)).toEqual({ ticks: [1, 10, 100, 1000], min: 1, max: 1000 });
  expect(logTicks(0.02, 900).ticks).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
  expect(logTicks(3, 3)).toEqual({ ticks: [1, 2, 5, 10, 20, 50, 100], min: 1, max: 100 });
});
