// Backends by device kind, as `--target` / `--device` select them: a factory per kind, the four
// built-in ones here, others added by registerBackend from the module that defines the kind.
import type { Backend } from '../../contracts/backend.ts';
import { FlexfarmError } from '../../contracts/errors.ts';
import { TARGET_KINDS, type TargetKind } from '../../contracts/targets.ts';
import { createCpuBackend } from './cpu/cpu-backend.ts';
import { createFpgaBackend } from './fpga/fpga-backend.ts';
import { createGpuBackend } from './gpu/gpu-backend.ts';
import { SimBackend } from './sim/sim-backend.ts';

export interface BackendOptions {
  /** Binaries and reference outputs are cached here. */
  cacheDir: string;
  /** Seed of the sim landscape's noise. */
  seed?: number;
  /** Fixed delay per sim measurement (farm benchmarks). */
  delayMs?: number;
  /** CPU: OpenMP threads for timing runs. */
  threads?: number;
  /** GPU: which device (nvidia-smi's index, default 0). */
  gpuIndex?: number;
  /** GPU: false renders only, with the limits of `gpuArch`, and needs no device (codegen). */
  probe?: boolean;
  /** GPU: architecture of a render-only backend (default sm_90). */
  gpuArch?: string;
  /** FPGA: part (default xcvu9p) and kernel clock (default: the part's usual clock). */
  part?: string;
  clockMhz?: number;
}

export class UnknownTargetError extends FlexfarmError {
  override name = 'UnknownTargetError';
  readonly code = 'UNKNOWN_TARGET';
  constructor(readonly target: string) {
    super(`unknown target '${target}' (known: ${TARGET_KINDS.join(', ')})`);
  }
}

export type BackendFactory = (options: BackendOptions) => Backend;

const FACTORIES = new Map<string, BackendFactory>([
  ['cpu', (o) => createCpuBackend({ cacheDir: o.cacheDir, threads: o.threads })],
  ['sim', (o) => new SimBackend({ seed: o.seed, delayMs: o.delayMs })],
  ['gpu', (o) => createGpuBackend({ cacheDir: o.cacheDir, gpuIndex: o.gpuIndex, probe: o.probe, arch: o.gpuArch })],
  ['fpga', (o) => createFpgaBackend({ cacheDir: o.cacheDir, part: o.part, clockMhz: o.clockMhz })],
]);

/** Adds the factory of a kind (registered in contracts/targets.ts too); returns its remover. */
export function registerBackend(kind: TargetKind, factory: BackendFactory): () => void {
  if (FACTORIES.has(kind)) throw new DuplicateBackendError(`a backend for '${kind}' is already registered`);
  FACTORIES.set(kind, factory);
  return () => { if (FACTORIES.get(kind) === factory) FACTORIES.delete(kind); };
}

export class DuplicateBackendError extends FlexfarmError {
  override name = 'DuplicateBackendError';
  readonly code = 'DUPLICATE_BACKEND';
}

export function createBackend(kind: string, options: BackendOptions): Backend {
  const factory = FACTORIES.get(kind);
  if (!factory) throw new UnknownTargetError(kind);
  return factory(options);
}
