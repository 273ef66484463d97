// What flexfarm knows of each NVIDIA architecture without a device at hand: the limits a config is
// checked against when rendering only (`flexfarm codegen --target gpu`), and FP32 lanes per SM for
// the peak estimate of a probed device.
import { FlexfarmError } from '../../../contracts/errors.ts';
import { DEFAULT_GPU_LIMITS, type GpuLimits } from '../../../tensor/templates/gpu.ts';

export const DEFAULT_GPU_ARCH = 'sm_90';

/** FP32 lanes per SM by compute capability (NVIDIA's CUDA C Programming Guide, throughput table). */
const FP32_LANES: Record<string, number> = {
  '7.5': 64, '8.0': 64, '8.6': 128, '8.7': 128, '8.9': 128, '9.0': 128,
  '10.0': 128, '10.3': 128, '11.0': 128, '12.0': 128, '12.1': 128,
};

export class UnknownGpuArchError extends FlexfarmError {
  override name = 'UnknownGpuArchError';
  readonly code = 'UNKNOWN_GPU_ARCH';
}

/** Architectures whose limits are known (compute capabilities 7.5 and newer, as nvcc 13 supports). */
export function knownArchs(): string[] {
  return Object.keys(FP32_LANES).map((cc) => `sm_${cc.replace('.', '')}`);
}

/** `sm_90` → '9.0'; throws UnknownGpuArchError for a name that is not an architecture flexfarm knows. */
export function computeCapability(arch: string): string {
  const m = /^sm_(\d+)(\d)$/.exec(arch);
  const cc = m ? `${Number(m[1])}.${m[2]}` : '';
  if (!(cc in FP32_LANES)) throw new UnknownGpuArchError(`unknown GPU architecture '${arch}' (known: ${knownArchs().join(', ')})`);
  return cc;
}

/** Static-shared-memory, thread and grid limits of an architecture: the same on every one since 7.5. */
export function archLimits(arch: string): GpuLimits {
  computeCapability(arch);
  return { ...DEFAULT_GPU_LIMITS };
}

/** FP32 lanes per SM for a compute capability like '9.0' (128 when it is newer than the table). */
export function fp32LanesPerSm(cc: string): number {
  return FP32_LANES[cc] ?? 128;
}
