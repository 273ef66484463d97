// oneDNN at a layer's shape, for `model report` (cli/library-timing.ts: the bench's anchors).
import type { LibraryMeasure } from '../../contracts/backend.ts';
import { hostLibraryTiming } from '../library-timing.ts';

export function onednnTiming(target: string, buildDir: string, threads?: number): LibraryMeasure {
  if (target !== 'cpu') return async () => ({ missing: `oneDNN runs on the CPU, not on ${target}` });
  return hostLibraryTiming({ buildDir, threads, libraries: ['onednn'] });
}
