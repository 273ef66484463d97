// Uniform random search over the space: the baseline every other method must beat.
import type { Point } from '../space.ts';
import { BatchExplorer } from './batch-explorer.ts';

/** Points drawn per batch; random search does not depend on results, so any size works. */
const BATCH = 64;

export class RandomExplorer extends BatchExplorer {
  readonly name = 'random';
  protected override readonly waitsForResults = false;

  protected *search(): Generator<Point[], void, void> {
    for (;;) {
      const batch = this.randomBatch(BATCH);
      if (!batch.length) return;
      yield batch;
    }
  }
}
