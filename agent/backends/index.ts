// Backends by device kind, as `--target` / `--device` select them.
import type { Backend } from '../backend.ts';
import type { TargetKind } from '../result.ts';
import { createCpuBackend } from './cpu/cpu-backend.ts';

export const TARGET_KINDS: readonly TargetKind[] = ['cpu', 'sim'];

export interface BackendOptions {
  /** Binaries and reference outputs are cached here. */
  cacheDir: string;
  /** Seed of the sim landscape's noise. */
  seed?: number;
  /** Fixed delay per sim measurement (farm benchmarks). */
  delayMs?: number;
  /** CPU: OpenMP threads for timing runs. */
  threads?: number;
}

export class UnknownTargetError extends Error {
  override name = 'UnknownTargetError';
  constructor(readonly target: string) {
    super(`unknown target '${target}' (known: ${TARGET_KINDS.join(', ')})`);
  }
}

export function createBackend(kind: string, options: BackendOptions): Backend {
  switch (kind) {
    case 'cpu': return createCpuBackend({ cacheDir: options.cacheDir, threads: options.threads });
    default: throw new UnknownTargetError(kind);
  }
}
