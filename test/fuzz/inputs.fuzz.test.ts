// Issue 15, item 6: a bounded share of the input surfaces' fuzzing (bench:fuzz runs >= 10,000 each).
import { expect, test } from 'vitest';
import { suiteRuns, type FuzzSurface } from './fuzz-run.ts';
import { cliSurface } from './surfaces/cli-flags.ts';
import { configsSurface } from './surfaces/configs.ts';
import { logReaderSurface } from './surfaces/log-reader.ts';
import { shapesSurface } from './surfaces/shapes.ts';

const cases: [string, FuzzSurface, number][] = [[shapesSurface, 500], [configsSurface, 200], [logReaderSurface, 100], [cliSurface, 500]]
  .map(([s, runs]) => [(s as FuzzSurface).name, s as FuzzSurface, runs as number]);

test.each(cases)('%s: generated inputs', async (_name, surface, runs) => {
  const outcome = await surface.run(suiteRuns(runs));
  expect(outcome.runs).toBe(suiteRuns(runs));
}, 120_000);
