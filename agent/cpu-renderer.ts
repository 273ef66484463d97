// C + OpenMP: parallel loops become one `omp parallel for collapse(n)`, vector loops explicit GCC
// vectors of the host's width where they qualify (vector-loop.ts) and `omp simd` elsewhere,
// unroll hints `GCC unroll`, local buffers are aligned for vector loads.
import { CRenderer, type RenderContext } from './c-renderer.ts';
import type { Expr, Stmt } from '../tensor/ir.ts';
import { dependsOn } from '../tensor/affine.ts';
import { vectorisableStore, vectorPrelude } from './vector-loop.ts';

type LoopStmt = Extract<Stmt, { k: 'loop' }>;

export interface CpuRendererOptions {
  /** Floats per SIMD register of the host (AVX-512 16, AVX2 8); 0 or 1: no explicit vectors. */
  vectorWidth?: number;
}

export class CpuRenderer extends CRenderer {
  readonly vectorWidth: number;

  constructor(options: CpuRendererOptions = {}) {
    super();
    this.vectorWidth = options.vectorWidth ?? 0;
  }

  protected override prelude(): string[] {
    return [...super.prelude(), ...(this.vectorWidth > 1 ? vectorPrelude(this.vectorWidth) : [])];
  }

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

  override renderStmt(s: Stmt, ctx: RenderContext, depth: number): string[] {
    if (s.k === 'loop' && s.kind === 'vector' && vectorisableStore(s, this.vectorWidth, ctx.shapes)) return this.vectorLoop(s, ctx, depth);
    return super.renderStmt(s, ctx, depth);
  }

  /** Whole registers over the loop, fully unrolled (they are the register tile), then a scalar tail. */
  private vectorLoop(loop: LoopStmt, ctx: RenderContext, depth: number): string[] {
    const pad = this.indentUnit.repeat(depth), inner = pad + this.indentUnit;
    const lanes = this.vectorWidth, extent = (loop.extent as { v: number }).v;
    const whole = extent - (extent % lanes);
    const store = loop.body as Extract<Stmt, { k: 'store' }>;
    const address = `&${this.indexed(store.tensor, store.index, ctx)}`;
    const value = this.vectorValue(store.value, loop.v, ctx);
    const stored = store.accumulate ? `*(ff_vec*)${address} + ${value}` : value;
    const out = [
      `${pad}#pragma GCC unroll ${whole / lanes}`,
      `${pad}for (int ${loop.v} = 0; ${loop.v} < ${whole}; ${loop.v} += ${lanes}) {`,
      `${inner}*(ff_vec*)${address} = ${stored};`,
      `${pad}}`,
    ];
    if (whole < extent) {
      const tail = super.renderStmt(store, ctx, depth + 1);
      out.push(`${pad}#pragma omp simd`, `${pad}for (int ${loop.v} = ${whole}; ${loop.v} < ${extent}; ++${loop.v}) {`, ...tail, `${pad}}`);
    }
    return out;
  }

  /** A lane-wise value: contiguous loads as vector loads, invariant parts as scalars (GCC broadcasts
   *  a scalar operand of a vector operation), the whole converted to a vector. */
  private vectorValue(e: Expr, v: string, ctx: RenderContext): string {
    if (!dependsOn(e, v)) return `ff_vset(${this.expr(e, ctx)})`;
    switch (e.k) {
      case 'load': return `*(const ff_vec*)&${this.indexed(e.tensor, e.index, ctx)}`;
      case 'select': return `(${this.expr(e.cond, ctx)} ? ${this.vectorValue(e.a, v, ctx)} : ${this.vectorValue(e.b, v, ctx)})`;
      case 'bin': {
        const side = (x: Expr) => (dependsOn(x, v) ? this.vectorValue(x, v, ctx) : this.expr(x, ctx));
        return `(${side(e.a)} ${e.op} ${side(e.b)})`;
      }
      default: return this.expr(e, ctx);
    }
  }

  protected override staticDecl(name: string, size: number): string {
    return `static float ${name}[${Math.max(1, size)}] __attribute__((aligned(64)));`;
  }

  protected override allocDecl(name: string, size: number, scope: 'local' | 'shared'): string {
    if (scope === 'shared') return super.allocDecl(name, size, scope);
    return `float ${name}[${Math.max(1, size)}] __attribute__((aligned(64)));`;
  }
}
