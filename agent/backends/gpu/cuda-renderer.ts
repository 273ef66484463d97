// CUDA C++ from the shared C-style renderer: the kernel is `__global__`, loops bound to blocks
// and threads become `blockIdx`/`threadIdx` bindings, `shared` buffers are `__shared__`, barriers
// are `__syncthreads()`, unroll hints are `#pragma unroll`. The launch shape is read off the nest.
import { FlexfarmError } from '../../../contracts/errors.ts';
import { CRenderer, type RenderContext } from '../../c-renderer.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import type { Stmt } from '../../../tensor/ir.ts';

type LoopStmt = Extract<Stmt, { k: 'loop' }>;

/** Blocks and threads per block, [x, y, z]. */
export interface LaunchShape { grid: [number, number, number]; block: [number, number, number] }

export class LaunchShapeError extends FlexfarmError {
  override name = 'LaunchShapeError';
  readonly code = 'LAUNCH_SHAPE';
}

const BINDINGS: Partial<Record<LoopStmt['kind'], { of: 'grid' | 'block'; dim: 0 | 1 | 2; source: string }>> = {
  'block.x': { of: 'grid', dim: 0, source: 'blockIdx.x' },
  'block.y': { of: 'grid', dim: 1, source: 'blockIdx.y' },
  'block.z': { of: 'grid', dim: 2, source: 'blockIdx.z' },
  'thread.x': { of: 'block', dim: 0, source: 'threadIdx.x' },
  'thread.y': { of: 'block', dim: 1, source: 'threadIdx.y' },
  'thread.z': { of: 'block', dim: 2, source: 'threadIdx.z' },
};

/** The grid and block a nest needs: the extents of its bound loops (1 where none is bound). */
export function launchShape(nest: Stmt): LaunchShape {
  const shape: LaunchShape = { grid: [1, 1, 1], block: [1, 1, 1] };
  const seen = new Set<string>();
  const walk = (s: Stmt): void => {
    switch (s.k) {
      case 'seq': s.body.forEach(walk); return;
      case 'if': walk(s.then); if (s.else) walk(s.else); return;
      case 'loop': {
        const binding = BINDINGS[s.kind];
        if (binding) {
          if (s.extent.k !== 'int') throw new LaunchShapeError(`loop '${s.v}' bound to ${s.kind} needs a constant extent`);
          if (seen.has(s.kind) && shape[binding.of][binding.dim] !== s.extent.v) {
            throw new LaunchShapeError(`${s.kind} is bound twice with different extents`);
          }
          seen.add(s.kind);
          shape[binding.of][binding.dim] = s.extent.v;
        }
        walk(s.body);
        return;
      }
      default: return;
    }
  };
  walk(nest);
  return shape;
}

export class CudaRenderer extends CRenderer {
  /** The launch shape of the kernel rendered last. */
  launch: LaunchShape = { grid: [1, 1, 1], block: [1, 1, 1] };

  override renderKernel(def: ComputeDef, nest: Stmt, comment?: string): string {
    this.launch = launchShape(nest);
    return super.renderKernel(def, nest, comment);
  }

  protected override restrictKeyword(): string { return '__restrict__'; }

  protected override kernelPrefix(): string {
    const threads = this.launch.block.reduce((a, b) => a * b, 1);
    return `extern "C" __global__ __launch_bounds__(${threads})`;
  }

  /** Guarded so that several kernels can share one translation unit; not static, so an unused
   *  helper draws no warning; host too, for host code rendered into the same program. */
  protected override prelude(): string[] {
    return [
      '#ifndef FF_CUDA_PRELUDE',
      '#define FF_CUDA_PRELUDE',
      '__host__ __device__ __forceinline__ int ff_min(int a, int b) { return a < b ? a : b; }',
      '__host__ __device__ __forceinline__ int ff_max(int a, int b) { return a > b ? a : b; }',
      '#endif',
    ];
  }

  protected override loopBinding(loop: LoopStmt, _ctx: RenderContext): string | null {
    const binding = BINDINGS[loop.kind];
    return binding ? `const int ${loop.v} = ${binding.source};` : null;
  }

  protected override loopPragmas(loop: LoopStmt, _ctx: RenderContext): string[] {
    if (loop.unroll) return [`#pragma unroll ${loop.unroll}`];
    return loop.kind === 'vthread' || loop.kind === 'unroll' ? ['#pragma unroll'] : [];
  }

  protected override allocDecl(name: string, size: number, scope: 'local' | 'shared'): string {
    return `${scope === 'shared' ? '__shared__ ' : ''}float ${name}[${Math.max(1, size)}];`;
  }

  protected override renderBarrier(): string[] { return ['__syncthreads();']; }
}
