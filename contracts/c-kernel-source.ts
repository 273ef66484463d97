// What exporting a kernel as standalone C needs from the backend that measured it: a C renderer
// and the flags it compiled with. The CPU backend has both; cli/ hands them to coordinator/export,
// which so renders the very code that was measured without importing agent/.
import type { ComputeDef } from '../tensor/compute.ts';
import type { Stmt } from '../tensor/ir.ts';
import type { DeviceLimits } from '../tensor/templates/template.ts';

export interface CKernelRenderer {
  /** The C function name renderKernel declares. */
  kernelName: string;
  /** The function renderKernel declares for a nest's untimed prepare step (packing weights). */
  readonly prepareName: string;
  renderKernel(def: ComputeDef, nest: Stmt, comment?: string): string;
  /** The kernel's parameter list: inputs first, the output last. */
  kernelParams(def: ComputeDef): string;
}

export interface CKernelSource {
  /** A fresh renderer for code measured under `limits` (the CPU's vector width); its kernelName
   *  is set per kernel. */
  createRenderer(limits?: DeviceLimits): CKernelRenderer;
  /** The compiler flags the tuner measured with (the Makefile's CFLAGS). */
  flags: readonly string[];
}
