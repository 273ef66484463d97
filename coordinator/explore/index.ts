// Explorers by name, as `--explorer` selects them.
import { FlexfarmError } from '../../contracts/errors.ts';
import type { Explorer } from './explorer.ts';
import type { ExplorerOptions } from './batch-explorer.ts';
import { RandomExplorer } from './random.ts';
import { GridExplorer } from './grid.ts';
import { FlexTensorExplorer } from './flextensor.ts';
import { QExplorer } from './q.ts';
import { ModelExplorer } from './model.ts';

export class UnknownExplorerError extends FlexfarmError {
  override name = 'UnknownExplorerError';
  readonly code = 'UNKNOWN_EXPLORER';
  constructor(readonly explorer: string, known: readonly string[]) {
    super(`unknown explorer '${explorer}' (known: ${known.join(', ')})`);
  }
}

const FACTORIES: Record<string, (options: ExplorerOptions) => Explorer> = {
  random: (o) => new RandomExplorer(o),
  grid: (o) => new GridExplorer(o),
  flextensor: (o) => new FlexTensorExplorer(o),
  q: (o) => new QExplorer(o),
  model: (o) => new ModelExplorer(o),
};

/** What `flexfarm tune` uses when no explorer is named: on the real CPU (bench:search, issue 3)
 *  it found the best schedules at 50-200 measurements. Its cost is bounded (bench:search's
 *  explorer-cost table): a few ms of coordinator CPU per measurement at most, against ~0.8 s for a
 *  real measurement. Campaigns keep their own default (campaign-spec.ts). */
export const DEFAULT_EXPLORER = 'model';

export function explorerNames(): string[] {
  return Object.keys(FACTORIES);
}

/** The explorer `name` over `options.space`; throws UnknownExplorerError listing the known names. */
export function createExplorer(name: string, options: ExplorerOptions): Explorer {
  const factory = Object.hasOwn(FACTORIES, name) ? FACTORIES[name] : undefined;
  if (!factory) throw new UnknownExplorerError(name, explorerNames());
  return factory(options);
}

export type { ExplorerOptions } from './batch-explorer.ts';
