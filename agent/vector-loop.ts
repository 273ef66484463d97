// Explicit SIMD for a `vector` loop: GCC vector types of the host's width instead of hoping the
// auto-vectoriser keeps a register tile in registers (it does not: measured on gemm 1024 the
// same nest ran at about half the speed with `omp simd` alone). A loop qualifies when its extent
// is a constant, its body is one store whose address is contiguous in the loop variable, and
// every load is contiguous (a vector load) or invariant (a broadcast) in it, with any guard
// invariant too. Anything else keeps the scalar loop under `omp simd`.
import type { Expr, Stmt } from '../tensor/ir.ts';
import { dependsOn, flatStrideIn } from '../tensor/affine.ts';

type LoopStmt = Extract<Stmt, { k: 'loop' }>;
type StoreStmt = Extract<Stmt, { k: 'store' }>;

/** The type and helpers the rendered vector code uses, for `lanes` floats per register. */
export function vectorPrelude(lanes: number): string[] {
  return [
    `typedef float ff_vec __attribute__((vector_size(${4 * lanes}), aligned(4)));`,
    'static inline ff_vec ff_vset(float x) { return (ff_vec){0} + x; }',
  ];
}

/** The store of a loop that can be rendered with vectors of `lanes` floats, or null. */
export function vectorisableStore(loop: LoopStmt, lanes: number, shapes: Map<string, number[]>): StoreStmt | null {
  if (lanes < 2 || loop.extent.k !== 'int' || loop.extent.v < lanes || loop.body.k !== 'store') return null;
  const store = loop.body;
  const shape = shapes.get(store.tensor);
  if (!shape || flatStrideIn(store.index, shape, loop.v) !== 1) return null;
  return vectorExpr(store.value, loop.v, shapes) ? store : null;
}

/** True when `e` can be evaluated lane-wise: contiguous or invariant loads, invariant guards. */
function vectorExpr(e: Expr, v: string, shapes: Map<string, number[]>): boolean {
  switch (e.k) {
    case 'float': return true;
    case 'int': case 'var': case 'cmp': case 'and': return false;
    case 'load': {
      const shape = shapes.get(e.tensor);
      if (!shape) return false;
      const stride = flatStrideIn(e.index, shape, v);
      return stride === 0 || stride === 1;
    }
    case 'select': return !dependsOn(e.cond, v) && vectorExpr(e.a, v, shapes) && vectorExpr(e.b, v, shapes);
    case 'bin': return (e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/') && vectorExpr(e.a, v, shapes) && vectorExpr(e.b, v, shapes);
  }
}
