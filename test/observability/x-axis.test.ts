// The live page's x-axis choice: measurements (each device's own count, up to the budget) or the
// wall clock since the campaign was submitted (from each point's `w`), in minutes past ten.
import { expect, test } from 'vitest';
// @ts-expect-error -- plain browser JavaScript served to the page, without type declarations
import { xAxisOf } from '../../dashboards/web/x-axis.js';
import { MeasurementStore } from '../../coordinator/web/measurement-store.ts';
import type { MeasureResult } from '../../contracts/result.ts';

interface Axis { mode: string; label: string; xOf: (p: { n: number; w: number | null }) => number | null; xMax: number }
const created = '2026-12-03T10:00:00.000Z';
const t0 = Date.parse(created);
const campaign = { createdAt: created, targets: [{ budget: 40 }, { budget: 100 }] };
const pointsAt = (...seconds: (number | null)[]) =>
  new Map([['cpu', new Map(seconds.map((s, i) => [i + 1, { n: i + 1, w: s === null ? null : t0 + s * 1000 }]))]]);

test('measurements: x is the point\'s count and the axis ends at the largest budget', () => {
  const axis = xAxisOf(campaign, pointsAt(3, 9), 'n') as Axis;
  expect(axis).toMatchObject({ mode: 'n', label: 'measurements', xMax: 100 });
  expect(axis.xOf({ n: 7, w: t0 + 5000 })).toBe(7);
});

test('wall clock: seconds since submitted, minutes once the span passes ten minutes; points without a time are left out', () => {
  const short = xAxisOf(campaign, pointsAt(3, 9.5, null), 'time') as Axis;
  expect(short).toMatchObject({ mode: 'time', label: 'seconds since submitted', xMax: 0 });
  expect(short.xOf({ n: 2, w: t0 + 9500 })).toBe(9.5);
  expect(short.xOf({ n: 3, w: null })).toBeNull();
  const long = xAxisOf(campaign, pointsAt(30, 1500), 'time') as Axis;
  expect(long.label).toBe('minutes since submitted');
  expect(long.xOf({ n: 2, w: t0 + 1_500_000 })).toBe(25);
});

test('the store keeps when each result was measured, and null where its time cannot be read', () => {
  const store = new MeasurementStore();
  const result = (at: string) => ({ target: 'cpu', median: 0.001, error: null, at }) as unknown as MeasureResult;
  expect(store.add('c1', result('2026-12-03T10:00:05.250Z'), 'a', 1e9)!.w).toBe(t0 + 5250);
  expect(store.add('c1', result('not a time'), 'a', 1e9)!.w).toBeNull();
});
