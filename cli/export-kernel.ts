// `exportKernel()` for the command and the library: the coordinator's export with the CPU
// backend's renderer and compiler flags (sim exports the CPU kernel of its config too), wired here
// because cli/ is the one layer that sees both sides.
import { CPU_FLAGS } from '../agent/backends/cpu/cpu-backend.ts';
import { CpuRenderer } from '../agent/cpu-renderer.ts';
import type { CKernelSource } from '../contracts/c-kernel-source.ts';
import { exportKernelWith, type ExportOptions, type ExportResult } from '../coordinator/export/export-kernel.ts';

const CPU_C_KERNELS: CKernelSource = {
  // The vector width the kernel was measured with (its device's limits), so the export is that code.
  createRenderer: (limits) => new CpuRenderer({ vectorWidth: typeof limits?.vectorWidth === 'number' ? limits.vectorWidth : 0 }),
  flags: CPU_FLAGS,
};

export function exportKernel(options: ExportOptions): ExportResult {
  return exportKernelWith(options, CPU_C_KERNELS);
}
