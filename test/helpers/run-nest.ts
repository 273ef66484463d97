// A tree-walking interpreter of lowered loop nests (tests only, tiny shapes): runs the prepare
// statements, then the nest, over Float32Array buffers, so a layout stage can be checked element
// by element without a compiler. Loads and stores out of a buffer's bounds throw.
import type { ComputeDef } from '../../tensor/compute.ts';
import { foldInt, type Expr, type Stmt } from '../../tensor/ir.ts';

export type Buffers = Map<string, { shape: number[]; data: Float32Array }>;

export function runNest(def: ComputeDef, nest: Stmt, inputs: Float32Array[]): Buffers {
  const buffers: Buffers = new Map();
  def.inputs.forEach((t, i) => buffers.set(t.name, { shape: t.shape, data: inputs[i] }));
  buffers.set(def.output.name, { shape: def.output.shape, data: new Float32Array(def.output.shape.reduce((a, b) => a * b, 1)).fill(NaN) });
  const env: Record<string, number> = {};
  const flat = (name: string, index: Expr[]) => {
    const b = buffers.get(name);
    if (!b) throw new Error(`unknown buffer ${name}`);
    let at = 0;
    index.forEach((e, d) => {
      const i = num(e);
      if (!(i >= 0 && i < b.shape[d])) throw new Error(`${name}[${index.map(num).join(',')}] out of bounds of [${b.shape.join('x')}]`);
      at = at * b.shape[d] + i;
    });
    return { b, at };
  };
  const num = (e: Expr): number => {
    switch (e.k) {
      case 'int': case 'float': return e.v;
      case 'var': if (!(e.name in env)) throw new Error(`unbound ${e.name}`); return env[e.name];
      case 'bin': {
        const a = num(e.a), b = num(e.b);
        // Index '/' and '%' are floor division and modulo; float arithmetic rounds to float32.
        if (e.op === '/' || e.op === '%') return Number.isInteger(a) && Number.isInteger(b) ? foldInt(e.op, a, b) : Math.fround(a / b);
        return Number.isInteger(a) && Number.isInteger(b) ? foldInt(e.op, a, b) : Math.fround(foldInt(e.op, a, b));
      }
      case 'cmp': {
        const a = num(e.a), b = num(e.b);
        return (e.op === '<' ? a < b : e.op === '<=' ? a <= b : e.op === '>' ? a > b : e.op === '>=' ? a >= b : a === b) ? 1 : 0;
      }
      case 'and': return e.terms.every((t) => num(t) !== 0) ? 1 : 0;
      case 'select': return num(e.cond) ? num(e.a) : num(e.b);
      case 'load': { const { b, at } = flat(e.tensor, e.index); return b.data[at]; }
    }
  };
  const run = (s: Stmt, prepare: boolean): void => {
    switch (s.k) {
      case 'seq': s.body.forEach((b) => run(b, prepare)); break;
      case 'loop': { const n = num(s.extent); for (let i = 0; i < n; i++) { env[s.v] = i; run(s.body, prepare); } break; }
      case 'let': env[s.name] = num(s.value); break;
      case 'alloc': buffers.set(s.name, { shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(NaN) }); break;
      case 'store': { const { b, at } = flat(s.tensor, s.index); const x = num(s.value); b.data[at] = Math.fround(s.accumulate ? b.data[at] + x : x); break; }
      case 'if': if (num(s.cond)) run(s.then, prepare); else if (s.else) run(s.else, prepare); break;
      case 'prepare': if (prepare) run(s.body, false); break;
      case 'view': buffers.set(s.tensor, { shape: s.shape, data: buffers.get(s.tensor)!.data }); break;
      default: break;
    }
  };
  // Prepare statements lead the nest (the template puts them first), so one pass runs the
  // harness's prepare call and then the kernel.
  run(nest, true);
  return buffers;
}
