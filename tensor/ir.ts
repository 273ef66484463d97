// The one small IR of flexfarm: expressions (index arithmetic, guarded loads, float arithmetic)
// and the loop-nest statements every renderer reads. Plain data, so it can be printed, hashed
// and interpreted by the TypeScript reference.

export type BinOp = '+' | '-' | '*' | '/' | '%' | 'min' | 'max';
export type CmpOp = '<' | '<=' | '>' | '>=' | '==';

export type Expr =
  | { k: 'int'; v: number }
  | { k: 'float'; v: number }
  | { k: 'var'; name: string }
  /** Integer ops: '/' and '%' are only ever applied to non-negative operands (guards come first). */
  | { k: 'bin'; op: BinOp; a: Expr; b: Expr }
  | { k: 'cmp'; op: CmpOp; a: Expr; b: Expr }
  | { k: 'and'; terms: Expr[] }
  /** Lazy: `b` is not evaluated when `cond` holds and vice versa (guarded loads rely on it). */
  | { k: 'select'; cond: Expr; a: Expr; b: Expr }
  | { k: 'load'; tensor: string; index: Expr[] };

export type LoopKind =
  | 'serial' | 'parallel' | 'vector' | 'unroll'
  | 'block.x' | 'block.y' | 'block.z' | 'thread.x' | 'thread.y' | 'thread.z' | 'vthread' | 'pipeline';

/** How one dimension of a buffer is split into banks (HLS ARRAY_PARTITION): element i of the
 *  dimension goes to bank i % factor (cyclic), i / ceil(extent / factor) (block), or i (complete). */
export interface ArrayPartition { dim: number; type: 'cyclic' | 'block' | 'complete'; factor?: number }

export type Stmt =
  | { k: 'seq'; body: Stmt[] }
  /** for (v = 0; v < extent; v++). `unroll` asks the compiler to unroll that many iterations;
   *  `ii` is the initiation interval asked of a `pipeline` loop (HLS). */
  | { k: 'loop'; v: string; extent: Expr; kind: LoopKind; unroll?: number; ii?: number; body: Stmt }
  /** An integer binding visible to the statements after it in the enclosing seq. */
  | { k: 'let'; name: string; value: Expr }
  /** A buffer local to the kernel: registers/stack on CPU, `local` or `shared` on GPU, BRAM on FPGA.
   *  `partition` splits it into banks (FPGA), one entry per partitioned dimension. `static`: one
   *  buffer for the program's lifetime, declared at file scope (staged and packed inputs on CPU),
   *  visible to the whole kernel and to its prepare step. */
  | { k: 'alloc'; name: string; shape: number[]; scope: 'local' | 'shared' | 'static'; partition?: ArrayPartition[] }
  /** Work done once before the kernel is first run and never timed: laying out constant inputs
   *  (packed weights), as TVM, Ansor and oneDNN do ahead of time. Renderers put it in a separate
   *  `<kernel>_prepare` function with the kernel's parameters. */
  | { k: 'prepare'; body: Stmt }
  /** From here on `tensor` is indexed with `shape`: the same elements, row-major (two adjacent
   *  dimensions merged when their loop axes are fused). */
  | { k: 'view'; tensor: string; shape: number[] }
  /** tensor[index] = value, or += value when `accumulate`. */
  | { k: 'store'; tensor: string; index: Expr[]; value: Expr; accumulate?: boolean }
  | { k: 'if'; cond: Expr; then: Stmt; else?: Stmt }
  | { k: 'barrier' }
  /** A note for the reader of generated code; renderers print it as a comment. */
  | { k: 'comment'; text: string };

// Constructors keep templates and operator definitions short and readable.
export const int = (v: number): Expr => ({ k: 'int', v });
export const float = (v: number): Expr => ({ k: 'float', v });
export const v = (name: string): Expr => ({ k: 'var', name });
const bin = (op: BinOp) => (a: Expr, b: Expr): Expr => ({ k: 'bin', op, a, b });
export const add = bin('+');
export const sub = bin('-');
export const mul = bin('*');
export const div = bin('/');
export const mod = bin('%');
export const min = bin('min');
export const max = bin('max');
const cmp = (op: CmpOp) => (a: Expr, b: Expr): Expr => ({ k: 'cmp', op, a, b });
export const lt = cmp('<');
export const le = cmp('<=');
export const ge = cmp('>=');
export const eq = cmp('==');
export const and = (...terms: Expr[]): Expr => (terms.length === 1 ? terms[0] : { k: 'and', terms });
export const select = (cond: Expr, a: Expr, b: Expr): Expr => ({ k: 'select', cond, a, b });
export const load = (tensor: string, index: Expr[]): Expr => ({ k: 'load', tensor, index });

export const seq = (...body: Stmt[]): Stmt => ({ k: 'seq', body });
export const loop = (name: string, extent: Expr | number, kind: LoopKind, body: Stmt, unroll?: number): Stmt => ({
  k: 'loop', v: name, extent: typeof extent === 'number' ? int(extent) : extent, kind, body,
  ...(unroll ? { unroll } : {}),
});

// The generic walks over expressions: the one place that knows which parts of each kind are
// sub-expressions. A pass handles the kinds it cares about and leaves the rest to these.

/** The direct sub-expressions of `e`, in evaluation order (a select's condition first). */
export function subExprs(e: Expr): readonly Expr[] {
  switch (e.k) {
    case 'int': case 'float': case 'var': return [];
    case 'bin': case 'cmp': return [e.a, e.b];
    case 'and': return e.terms;
    case 'select': return [e.cond, e.a, e.b];
    case 'load': return e.index;
  }
}

/** `e` rebuilt with `f` applied to each direct sub-expression; a leaf is returned as it is. */
export function mapChildren(e: Expr, f: (child: Expr) => Expr): Expr {
  switch (e.k) {
    case 'int': case 'float': case 'var': return e;
    case 'bin': case 'cmp': return { ...e, a: f(e.a), b: f(e.b) };
    case 'and': return { k: 'and', terms: e.terms.map((t) => f(t)) };
    case 'select': return { k: 'select', cond: f(e.cond), a: f(e.a), b: f(e.b) };
    case 'load': return { ...e, index: e.index.map((i) => f(i)) };
  }
}

/** Rebuilds bottom-up: `f` sees every node with its sub-expressions already rebuilt. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  return f(mapChildren(e, (c) => mapExpr(c, f)));
}

/** Rebuilds top-down: where `f` returns an expression it replaces the whole subexpression (not
 *  visited further); where it returns null, the children are rewritten. */
export function rewriteExpr(e: Expr, f: (e: Expr) => Expr | null): Expr {
  return f(e) ?? mapChildren(e, (c) => rewriteExpr(c, f));
}

/** Folds `f` over `e` and every sub-expression, parents before children. */
export function foldExpr<T>(e: Expr, init: T, f: (acc: T, e: Expr) => T): T {
  return subExprs(e).reduce((acc, c) => foldExpr(c, acc, f), f(init, e));
}

/** Calls `f` on `e` and every sub-expression, parents before children. */
export function forEachExpr(e: Expr, f: (e: Expr) => void): void {
  f(e);
  for (const c of subExprs(e)) forEachExpr(c, f);
}

/** True when `e` or one of its sub-expressions satisfies `test` (stops at the first). */
export function someExpr(e: Expr, test: (e: Expr) => boolean): boolean {
  return test(e) || subExprs(e).some((c) => someExpr(c, test));
}

/** Replace variables by expressions (used to express an axis through its split levels). */
export function substitute(e: Expr, env: Record<string, Expr>): Expr {
  return mapExpr(e, (x) => (x.k === 'var' ? env[x.name] ?? x : x));
}

/** Fold integer constants so generated code stays readable (x*1, x+0, 3*4). */
export function simplify(e: Expr): Expr {
  switch (e.k) {
    case 'bin': {
      const a = simplify(e.a), b = simplify(e.b);
      if (a.k === 'int' && b.k === 'int') return int(foldInt(e.op, a.v, b.v));
      if (e.op === '*' && ((a.k === 'int' && a.v === 0) || (b.k === 'int' && b.v === 0))) return int(0);
      if (e.op === '*' && a.k === 'int' && a.v === 1) return b;
      if ((e.op === '*' || e.op === '/') && b.k === 'int' && b.v === 1) return a;
      if (e.op === '+' && a.k === 'int' && a.v === 0) return b;
      if ((e.op === '+' || e.op === '-') && b.k === 'int' && b.v === 0) return a;
      if (e.op === '%' && b.k === 'int' && b.v === 1) return int(0);
      // (m·x) / c = (m/c)·x and (m·x) % c = 0 when c divides m (exact for floor division too).
      const scaled = a.k === 'bin' && a.op === '*' ? scaledBy(a) : null;
      if ((e.op === '/' || e.op === '%') && b.k === 'int' && b.v !== 0 && scaled && scaled.m % b.v === 0) {
        return e.op === '%' ? int(0) : simplify(mul(int(scaled.m / b.v), scaled.x));
      }
      return { ...e, a, b };
    }
    case 'cmp': {
      const a = simplify(e.a), b = simplify(e.b);
      // m·x against 0 for m > 0: the sign of x decides.
      const scaled = a.k === 'bin' && a.op === '*' ? scaledBy(a) : null;
      if (scaled && scaled.m > 0 && b.k === 'int' && b.v === 0) return { ...e, a: scaled.x, b };
      return { ...e, a, b };
    }
    case 'and': return and(...e.terms.map(simplify));
    default: return mapChildren(e, simplify);
  }
}

/** m·x or x·m with a constant m, as { m, x }. */
function scaledBy(e: Extract<Expr, { k: 'bin' }>): { m: number; x: Expr } | null {
  if (e.a.k === 'int') return { m: e.a.v, x: e.b };
  if (e.b.k === 'int') return { m: e.b.v, x: e.a };
  return null;
}

export function foldInt(op: BinOp, a: number, b: number): number {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return Math.floor(a / b);
    case '%': return a - Math.floor(a / b) * b;
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
  }
}

/** Every statement of a nest, depth first (the nest itself first). */
export function statements(s: Stmt, out: Stmt[] = []): Stmt[] {
  out.push(s);
  switch (s.k) {
    case 'seq': s.body.forEach((b) => statements(b, out)); break;
    case 'loop': case 'prepare': statements(s.body, out); break;
    case 'if': statements(s.then, out); if (s.else) statements(s.else, out); break;
  }
  return out;
}

/** True when the nest has work to run once, untimed, before the kernel (a `prepare` statement). */
export const hasPrepare = (nest: Stmt): boolean => statements(nest).some((s) => s.k === 'prepare');

