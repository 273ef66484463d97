// Index analysis for the FPGA template's on-chip tile buffers: which box of a tensor one tile of
// the loop nest reads (its footprint), with a runtime origin and a static size, and integer
// evaluation of index expressions for the bank-conflict analysis of the latency model.
//
// The footprint is interval arithmetic over the index expression: every axis variable ranges
// over [origin, origin + span]; the result is a lower bound `lo` (an expression of the origins,
// evaluated at run time) and a static `span` with every accessed value in [lo, lo + span].
// Division is sound because the IR only divides non-negative operands (guards come first), so a
// lower bound below zero can be clamped to zero before dividing.
import { add, foldInt, int, max, mul, simplify, sub, v, type Expr } from '../ir.ts';

/** An index expression the footprint analysis cannot bound (a product of variables, a load). */
export class FootprintError extends Error {
  override name = 'FootprintError';
}

/** A variable's range: [lo, lo + span]; `nonNegative` when lo is never below zero. */
export interface Interval { lo: Expr; span: number; nonNegative: boolean }

export function interval(e: Expr, ranges: Record<string, Interval>): Interval {
  switch (e.k) {
    case 'int': return { lo: e, span: 0, nonNegative: e.v >= 0 };
    case 'var': {
      const r = ranges[e.name];
      if (!r) throw new FootprintError(`index variable '${e.name}' is not a loop axis`);
      return r;
    }
    case 'bin': {
      const a = interval(e.a, ranges);
      if (e.op === '*') {
        const [c, x] = constantFactor(e);
        if (c === null) throw new FootprintError('an index multiplies two variables');
        const r = interval(x, ranges);
        return c >= 0
          ? { lo: simplify(mul(int(c), r.lo)), span: c * r.span, nonNegative: r.nonNegative }
          : { lo: simplify(mul(int(c), add(r.lo, int(r.span)))), span: -c * r.span, nonNegative: false };
      }
      const b = interval(e.b, ranges);
      switch (e.op) {
        case '+': return { lo: simplify(add(a.lo, b.lo)), span: a.span + b.span, nonNegative: a.nonNegative && b.nonNegative };
        case '-': return { lo: simplify(sub(a.lo, add(b.lo, int(b.span)))), span: a.span + b.span, nonNegative: false };
        case '/': {
          const d = positiveConstant(e.b, '/');
          const base = a.nonNegative ? a.lo : max(a.lo, int(0));
          // floor((x + S) / d) - floor(x / d) <= ceil(S / d) for x >= 0.
          return { lo: simplify({ k: 'bin', op: '/', a: base, b: int(d) }), span: Math.ceil(a.span / d), nonNegative: true };
        }
        case '%': {
          const d = positiveConstant(e.b, '%');
          return { lo: int(0), span: d - 1, nonNegative: true };
        }
        default: throw new FootprintError(`cannot bound '${e.op}' in an index`);
      }
    }
    default: throw new FootprintError(`cannot bound a '${e.k}' expression in an index`);
  }
}

function constantFactor(e: Extract<Expr, { k: 'bin' }>): [number | null, Expr] {
  if (e.a.k === 'int') return [e.a.v, e.b];
  if (e.b.k === 'int') return [e.b.v, e.a];
  return [null, e];
}

function positiveConstant(e: Expr, op: string): number {
  if (e.k !== 'int' || e.v <= 0) throw new FootprintError(`'${op}' by a non-constant or non-positive divisor in an index`);
  return e.v;
}

/** An affine form: sum of coefficient * variable, plus a constant. */
export interface Affine { terms: Map<string, number>; c: number }

/** The affine form of an integer expression, or null when it is not affine (division, min, …). */
export function toAffine(e: Expr): Affine | null {
  switch (e.k) {
    case 'int': return { terms: new Map(), c: e.v };
    case 'var': return { terms: new Map([[e.name, 1]]), c: 0 };
    case 'bin': {
      if (e.op === '*') {
        const [c, x] = constantFactor(e);
        if (c === null) return null;
        const r = toAffine(x);
        return r && scale(r, c);
      }
      if (e.op !== '+' && e.op !== '-') return null;
      const a = toAffine(e.a), b = toAffine(e.b);
      if (!a || !b) return null;
      return combine(a, e.op === '+' ? b : scale(b, -1));
    }
    default: return null;
  }
}

function scale(a: Affine, c: number): Affine {
  return { terms: new Map([...a.terms].map(([k, x]) => [k, x * c])), c: a.c * c };
}

function combine(a: Affine, b: Affine): Affine {
  const terms = new Map(a.terms);
  for (const [k, x] of b.terms) terms.set(k, (terms.get(k) ?? 0) + x);
  return { terms, c: a.c + b.c };
}

/** a - b as an expression, with cancelled terms dropped (tile origins cancel in local indices). */
export function affineDifference(a: Affine, b: Affine): Expr {
  const d = combine(a, scale(b, -1));
  let e: Expr | null = null;
  for (const [name, c] of [...d.terms].sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (c === 0) continue;
    const term = c === 1 ? v(name) : mul(v(name), int(c));
    e = e ? add(e, term) : term;
  }
  if (!e) return int(d.c);
  return d.c === 0 ? e : add(e, int(d.c));
}

/** Evaluate an integer index expression (floor division and modulo, as the IR defines them). */
export function evalIndex(e: Expr, env: Record<string, number>): number {
  switch (e.k) {
    case 'int': return e.v;
    case 'var': {
      const x = env[e.name];
      if (x === undefined) throw new FootprintError(`no value for index variable '${e.name}'`);
      return x;
    }
    case 'bin': return foldInt(e.op, evalIndex(e.a, env), evalIndex(e.b, env));
    default: throw new FootprintError(`cannot evaluate a '${e.k}' expression as an index`);
  }
}
