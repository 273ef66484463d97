// Backends by device kind, as `--target` / `--device` select them.
import type { Backend } from '../../contracts/backend.ts';
import { FlexfarmError } from '../../contracts/errors.ts';
import { TARGET_KINDS } from '../../contracts/targets.ts';
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

export function createBackend(kind: string, options: BackendOptions): Backend {
  switch (kind) {
    case 'cpu': return createCpuBackend({ cacheDir: options.cacheDir, threads: options.threads });
    case 'sim': return new SimBackend({ seed: options.seed, delayMs: options.delayMs });
    case 'gpu': return createGpuBackend({ cacheDir: options.cacheDir, gpuIndex: options.gpuIndex, probe: options.probe, arch: options.gpuArch });
    case 'fpga': return createFpgaBackend({ cacheDir: options.cacheDir, part: options.part, clockMhz: options.clockMhz });
    default: throw new UnknownTargetError(kind);
  }
}
