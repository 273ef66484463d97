// The whole CUDA program for a nest: the kernel followed by the host harness.
//
// A nest without GPU bindings is the unscheduled reference (tensor/lower.ts lowerNaive): it runs
// on the GPU one thread per output point (for the reference timing), and the same nest is also
// rendered as a host function, so the output the program writes with --write — the correctness
// oracle of every candidate — is computed by the host CPU, after the GPU's own result has been
// checked against it.
import type { ComputeDef } from '../../../tensor/compute.ts';
import type { Stmt } from '../../../tensor/ir.ts';
import { CRenderer } from '../../c-renderer.ts';
import { renderCudaHarness } from './cuda-harness.ts';
import { CudaRenderer } from './cuda-renderer.ts';
import { bindOutputLoops } from './thread-per-point.ts';

/** Plain C++ for the host, in the same translation unit (the CUDA prelude's helpers are host too). */
class HostRenderer extends CRenderer {
  override kernelName = 'ff_host_reference';
  protected override restrictKeyword(): string { return '__restrict__'; }
  protected override kernelPrefix(): string { return 'static'; }
  protected override prelude(): string[] { return []; }
}

export function cudaProgram(def: ComputeDef, nest: Stmt, note?: string): string {
  const renderer = new CudaRenderer();
  const bound = bindOutputLoops(def, nest);
  const kernel = renderer.renderKernel(def, bound, note);
  if (bound === nest) return kernel + renderCudaHarness(def, renderer.kernelName, renderer.launch);
  const host = new HostRenderer();
  return kernel + host.renderKernel(def, nest, 'the same nest on the host CPU: the correctness oracle')
    + renderCudaHarness(def, renderer.kernelName, renderer.launch, host.kernelName);
}
