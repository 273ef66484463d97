// What an explorer can say about its own learning, for metrics: the q explorer exposes ε and its
// training loss (read-only getters); other methods have neither, which gives nulls.
import type { Explorer } from '../explore/explorer.ts';

export interface ExplorerFigures {
  epsilon: number | null;
  loss: number | null;
}

export function explorerFigures(explorer: Explorer | null): ExplorerFigures {
  const learning = explorer as (Explorer & { readonly epsilon?: unknown; readonly loss?: unknown }) | null;
  return { epsilon: finiteOrNull(learning?.epsilon), loss: finiteOrNull(learning?.loss) };
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
