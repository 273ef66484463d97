// How an integer index expression moves with one loop variable: the constant stride of an affine
// dependence, or null when the dependence is not affine (a floor division, modulo, min or max that
// involves the variable). Renderers use it to tell contiguous and broadcast loads from gathers;
// templates use it to find the axis that indexes a tensor dimension.
import { someExpr, type Expr } from './ir.ts';

/** True when the variable `name` occurs in `e`. */
export function dependsOn(e: Expr, name: string): boolean {
  return someExpr(e, (x) => x.k === 'var' && x.name === name);
}

/** d e / d name when `e` is affine in `name` (0 when it does not occur), else null. */
export function strideIn(e: Expr, name: string): number | null {
  if (!dependsOn(e, name)) return 0;
  switch (e.k) {
    case 'var': return 1;
    case 'bin': {
      const a = strideIn(e.a, name), b = strideIn(e.b, name);
      if (a === null || b === null) return null;
      if (e.op === '+') return a + b;
      if (e.op === '-') return a - b;
      if (e.op === '*') {
        // Affine only when one side is a constant.
        if (e.b.k === 'int') return a * e.b.v;
        if (e.a.k === 'int') return b * e.a.v;
        return null;
      }
      return null;
    }
    default: return null;
  }
}

/** Row-major flat stride of a multi-dimensional index in `name`, or null when not affine. */
export function flatStrideIn(index: Expr[], shape: number[], name: string): number | null {
  let stride = 0, inner = 1;
  for (let d = index.length - 1; d >= 0; d--) {
    const s = strideIn(index[d], name);
    if (s === null) return null;
    stride += s * inner;
    inner *= shape[d];
  }
  return stride;
}

/** The constant term of an affine expression (its value with every variable at 0), or null when
 *  it is not affine (a division, modulo, min or max, a float, a load). */
export function constantTerm(e: Expr): number | null {
  switch (e.k) {
    case 'int': return e.v;
    case 'var': return 0;
    case 'bin': {
      if (e.op !== '+' && e.op !== '-' && e.op !== '*') return null;
      if (e.op === '*' && e.a.k !== 'int' && e.b.k !== 'int') return null;   // affine: one side constant
      const a = constantTerm(e.a), b = constantTerm(e.b);
      if (a === null || b === null) return null;
      return e.op === '+' ? a + b : e.op === '-' ? a - b : a * b;
    }
    default: return null;
  }
}
