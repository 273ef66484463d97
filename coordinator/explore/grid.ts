// Exhaustive enumeration in mixed-radix order (last knob fastest), for small spaces only.
import { FlexfarmError } from '../../contracts/errors.ts';
import type { Point } from '../space.ts';
import { BatchExplorer, type ExplorerOptions } from './batch-explorer.ts';

/** Spaces larger than this are refused: a grid would only ever see a thin corner of them. */
export const DEFAULT_MAX_GRID_POINTS = 1_000_000n;
const BATCH = 64;

export class GridTooLargeError extends FlexfarmError {
  override name = 'GridTooLargeError';
  readonly code = 'GRID_TOO_LARGE';
}

export class GridExplorer extends BatchExplorer {
  readonly name = 'grid';

  constructor(options: ExplorerOptions & { maxPoints?: bigint }) {
    super(options);
    const limit = options.maxPoints ?? DEFAULT_MAX_GRID_POINTS;
    if (options.space.size > limit) {
      throw new GridTooLargeError(
        `grid: the space has ${options.space.size} points, more than the ${limit} a grid enumerates; `
        + 'use --explorer flextensor, q, model or random for this workload',
      );
    }
  }

  protected *search(): Generator<Point[], void, void> {
    let batch: Point[] = [];
    for (let rank = 0n; rank < this.space.size; rank++) {
      const p = this.space.pointAt(rank);
      if (this.isProposed(p)) continue;
      batch.push(p);
      if (batch.length === BATCH) { yield batch; batch = []; }
    }
    if (batch.length) yield batch;
  }
}
