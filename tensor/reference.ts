// A plain TypeScript interpreter of a compute definition: the semantics every generated kernel
// must reproduce, independent of any renderer or compiler. Slow on purpose (a tree walk per
// point); use it on tiny shapes only.
import type { ComputeDef, TensorDecl } from './compute.ts';
import { inputValue } from './data.ts';
import { foldInt, type CmpOp, type Expr } from './ir.ts';

/** A definition that cannot be evaluated: wrong inputs, an unbound variable, an unguarded out-of-bounds load. */
export class EvaluationError extends Error {
  override name = 'EvaluationError';
}

type Env = Record<string, number>;
type Tensors = Record<string, { decl: TensorDecl; data: Float32Array }>;

export const elementCount = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** The deterministic inputs every harness uses: element i of input t is inputValue(t, i). */
export function makeInputs(def: ComputeDef): Float32Array[] {
  return def.inputs.map((decl, t) => Float32Array.from({ length: elementCount(decl.shape) }, (_, i) => inputValue(t, i)));
}

/** out[spatial...] = float32 sum over every reduce point of body; row-major output. */
export function evaluate(def: ComputeDef, inputs: Float32Array[] = makeInputs(def)): Float32Array {
  if (inputs.length !== def.inputs.length) {
    throw new EvaluationError(`${def.key}: expected ${def.inputs.length} inputs, got ${inputs.length}`);
  }
  const tensors: Tensors = {};
  def.inputs.forEach((decl, t) => {
    if (inputs[t].length !== elementCount(decl.shape)) {
      throw new EvaluationError(`${def.key}: input ${decl.name} needs ${elementCount(decl.shape)} elements, got ${inputs[t].length}`);
    }
    tensors[decl.name] = { decl, data: inputs[t] };
  });
  const out = new Float32Array(elementCount(def.output.shape));
  const env: Env = {};
  let offset = 0;
  forEachPoint(def.spatial.map((a) => a.name), def.spatial.map((a) => a.extent), env, () => {
    if (def.reduce.length === 0) {
      out[offset++] = value(def.body, env, tensors);
      return;
    }
    let acc = 0;
    forEachPoint(def.reduce.map((a) => a.name), def.reduce.map((a) => a.extent), env, () => {
      acc = Math.fround(acc + value(def.body, env, tensors));
    });
    out[offset++] = acc;
  });
  return out;
}

/** Visit every point of the box `extents` in row-major order, binding `names` in `env`. */
function forEachPoint(names: string[], extents: number[], env: Env, visit: () => void, depth = 0): void {
  if (depth === names.length) { visit(); return; }
  for (let i = 0; i < extents[depth]; i++) {
    env[names[depth]] = i;
    forEachPoint(names, extents, env, visit, depth + 1);
  }
}

/** A float value: loads and float arithmetic, rounded to float32 like the generated C. */
function value(e: Expr, env: Env, tensors: Tensors): number {
  switch (e.k) {
    case 'float': return Math.fround(e.v);
    case 'int': case 'var': case 'cmp': case 'and': return integer(e, env);
    // Lazy: the branch not taken is never evaluated, so a guarded load never reads out of bounds.
    case 'select': return integer(e.cond, env) ? value(e.a, env, tensors) : value(e.b, env, tensors);
    case 'load': return loadElement(e.tensor, e.index.map((i) => integer(i, env)), tensors);
    case 'bin': {
      const a = value(e.a, env, tensors), b = value(e.b, env, tensors);
      switch (e.op) {
        case '+': return Math.fround(a + b);
        case '-': return Math.fround(a - b);
        case '*': return Math.fround(a * b);
        case '/': return Math.fround(a / b);
        case 'min': return Math.min(a, b);
        case 'max': return Math.max(a, b);
        case '%': throw new EvaluationError(`'%' applied to a float value`);
      }
    }
  }
}

/** An integer: index arithmetic (floor division and modulo, as foldInt) and conditions (1 or 0). */
function integer(e: Expr, env: Env): number {
  switch (e.k) {
    case 'int': return e.v;
    case 'var': {
      const x = env[e.name];
      if (x === undefined) throw new EvaluationError(`unbound variable '${e.name}'`);
      return x;
    }
    case 'bin': return foldInt(e.op, integer(e.a, env), integer(e.b, env));
    case 'cmp': return compare(e.op, integer(e.a, env), integer(e.b, env)) ? 1 : 0;
    // Short-circuit, like && in C: later terms may assume the earlier ones hold.
    case 'and': return e.terms.every((t) => integer(t, env) !== 0) ? 1 : 0;
    case 'select': return integer(e.cond, env) ? integer(e.a, env) : integer(e.b, env);
    case 'float': case 'load': throw new EvaluationError(`a ${e.k} where an integer index or condition is expected`);
  }
}

/** The truth of `a op b`, as the IR's comparisons mean it. */
export function compare(op: CmpOp, a: number, b: number): boolean {
  switch (op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '==': return a === b;
  }
}

function loadElement(name: string, index: number[], tensors: Tensors): number {
  const tensor = tensors[name];
  if (!tensor) throw new EvaluationError(`load from unknown tensor '${name}'`);
  const { shape } = tensor.decl;
  if (index.length !== shape.length) throw new EvaluationError(`${name}: ${index.length} indices for rank ${shape.length}`);
  let flat = 0;
  index.forEach((i, d) => {
    if (!(i >= 0 && i < shape[d])) {
      throw new EvaluationError(`${name}[${index.join(',')}] is out of bounds of [${shape.join('x')}] (a missing guard)`);
    }
    flat = flat * shape[d] + i;
  });
  return tensor.data[flat];
}
