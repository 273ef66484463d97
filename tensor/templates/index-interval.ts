// Bounds of integer index expressions by interval arithmetic. A template that stages the part of
// an input one tile reads into a fast buffer (GPU shared memory, FPGA on-chip tiles) needs that
// part's box: per dimension, a lower end that depends on the tile's position (an expression,
// evaluated at run time) and a length that does not (a constant: the buffer's static size).
import { add, div, ge, int, mul, select, simplify, sub, type Expr } from '../ir.ts';

/** Values in [lo, lo + extent - 1]. `exact`: the box is the tightest one (affine indices only). */
export interface Interval { lo: Expr; extent: number; exact: boolean }

/** floor(a / c) for c > 0 and any sign of a (the IR's `/` is only defined on non-negative operands). */
export function floorDiv(a: Expr, c: number): Expr {
  const s = simplify(a);
  if (s.k === 'int') return int(Math.floor(s.v / c));
  // a < 0: floor(a / c) = -((c - 1 - a) / c), with a non-negative dividend.
  return select(ge(s, int(0)), div(s, int(c)), sub(int(0), div(sub(int(c - 1), s), int(c))));
}

/**
 * The interval of `e` when every variable lies in its interval, or null when `e` is not bounded
 * by a constant-length interval (a product of two variables, min/max, a float, a load).
 */
export function indexInterval(e: Expr, vars: Record<string, Interval>): Interval | null {
  switch (e.k) {
    case 'int': return { lo: e, extent: 1, exact: true };
    case 'var': return vars[e.name] ?? null;
    case 'bin': {
      const a = indexInterval(e.a, vars), b = indexInterval(e.b, vars);
      if (!a || !b) return null;
      const exact = a.exact && b.exact;
      switch (e.op) {
        case '+': return { lo: simplify(add(a.lo, b.lo)), extent: a.extent + b.extent - 1, exact };
        case '-': return { lo: simplify(sub(a.lo, add(b.lo, int(b.extent - 1)))), extent: a.extent + b.extent - 1, exact };
        case '*': {
          const c = constant(e.b) ?? constant(e.a);
          const x = constant(e.b) !== null ? a : b;
          if (c === null) return null;
          if (c === 0) return { lo: int(0), extent: 1, exact: true };
          const lo = c > 0 ? mul(x.lo, int(c)) : mul(add(x.lo, int(x.extent - 1)), int(c));
          return { lo: simplify(lo), extent: (x.extent - 1) * Math.abs(c) + 1, exact: x.exact };
        }
        case '/': {
          const c = constant(e.b);
          if (c === null || c <= 0) return null;
          // From a known start (a phase plus a constant), the quotients are known exactly.
          if (a.lo.k === 'int') {
            const lo = Math.floor(a.lo.v / c);
            return { lo: int(lo), extent: Math.floor((a.lo.v + a.extent - 1) / c) - lo + 1, exact: false };
          }
          // E consecutive values hit at most ceil((E - 1) / c) + 1 quotients.
          return { lo: floorDiv(a.lo, c), extent: Math.ceil((a.extent - 1) / c) + 1, exact: false };
        }
        case '%': {
          const c = constant(e.b);
          if (c === null || c <= 0) return null;
          // Values within one period keep their order: their remainders are a run too.
          if (a.lo.k === 'int' && Math.floor(a.lo.v / c) === Math.floor((a.lo.v + a.extent - 1) / c)) {
            return { lo: int(a.lo.v - Math.floor(a.lo.v / c) * c), extent: a.extent, exact: false };
          }
          return { lo: int(0), extent: c, exact: false };
        }
        default: return null;
      }
    }
    default: return null;
  }
}

function constant(e: Expr): number | null {
  const s = simplify(e);
  return s.k === 'int' ? s.v : null;
}
