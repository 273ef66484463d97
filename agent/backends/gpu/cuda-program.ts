// The whole CUDA program for a nest: the kernel followed by the host harness.
import type { ComputeDef } from '../../../tensor/compute.ts';
import type { Stmt } from '../../../tensor/ir.ts';
import { renderCudaHarness } from './cuda-harness.ts';
import { CudaRenderer } from './cuda-renderer.ts';
import { bindOutputLoops } from './thread-per-point.ts';

export function cudaProgram(def: ComputeDef, nest: Stmt, note?: string): string {
  const renderer = new CudaRenderer();
  const kernel = renderer.renderKernel(def, bindOutputLoops(def, nest), note);
  return kernel + renderCudaHarness(def, renderer.kernelName, renderer.launch);
}
