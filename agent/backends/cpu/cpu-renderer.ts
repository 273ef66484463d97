// C + OpenMP: parallel loops become one `omp parallel for collapse(n)`, vector loops `omp simd`,
// unroll hints `GCC unroll`, local buffers are aligned for vector loads.
import { CRenderer, type RenderContext } from '../../c-renderer.ts';
import type { Stmt } from '../../../tensor/ir.ts';

type LoopStmt = Extract<Stmt, { k: 'loop' }>;

export class CpuRenderer extends CRenderer {
  protected override loopPragmas(loop: LoopStmt, ctx: RenderContext): string[] {
    switch (loop.kind) {
      case 'parallel': {
        // Nested parallel loops are collapsed into the outermost one's pragma.
        if (ctx.parentLoop?.kind === 'parallel') return [];
        let depth = 1;
        for (let inner = loop.body; inner.k === 'loop' && inner.kind === 'parallel'; inner = inner.body) depth++;
        return [`#pragma omp parallel for${depth > 1 ? ` collapse(${depth})` : ''} schedule(static)`];
      }
      case 'vector':
        return ['#pragma omp simd'];
      default:
        return loop.unroll ? [`#pragma GCC unroll ${loop.unroll}`] : [];
    }
  }

  protected override allocDecl(name: string, size: number, scope: 'local' | 'shared'): string {
    if (scope === 'shared') return super.allocDecl(name, size, scope);
    return `float ${name}[${Math.max(1, size)}] __attribute__((aligned(64)));`;
  }
}
