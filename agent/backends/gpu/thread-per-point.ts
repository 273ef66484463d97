// A nest without GPU bindings (the unscheduled reference of tensor/lower.ts) would run on a single
// GPU thread: hours for a large GEMM. Its outer loops over the output's spatial axes carry no
// dependence, so they are spread over threads instead — one thread per output point — and the
// rest of the nest (the reduction) is left exactly as written.
import type { ComputeDef } from '../../../tensor/compute.ts';
import { add, div, int, loop, lt, mod, mul, seq, simplify, v, type Expr, type Stmt } from '../../../tensor/ir.ts';

export const POINT_THREADS_PER_BLOCK = 256;

function hasBindings(s: Stmt): boolean {
  switch (s.k) {
    case 'seq': return s.body.some(hasBindings);
    case 'if': return hasBindings(s.then) || (s.else ? hasBindings(s.else) : false);
    case 'loop': return s.kind.startsWith('block.') || s.kind.startsWith('thread.') || hasBindings(s.body);
    default: return false;
  }
}

/** `nest` with its leading loops over def.spatial bound to one thread per point; other nests unchanged. */
export function bindOutputLoops(def: ComputeDef, nest: Stmt): Stmt {
  if (hasBindings(nest)) return nest;
  let body = nest;
  for (const a of def.spatial) {
    if (body.k !== 'loop' || body.v !== a.name || body.kind !== 'serial' || body.extent.k !== 'int' || body.extent.v !== a.extent) return nest;
    body = body.body;
  }
  const points = def.spatial.reduce((n, a) => n * a.extent, 1);
  const threads = Math.min(points, POINT_THREADS_PER_BLOCK);
  const point = v('ff_point');
  let stride = points;
  const lets: Stmt[] = def.spatial.map((a, i) => {
    stride /= a.extent;
    const q: Expr = stride === 1 ? point : div(point, int(stride));
    return { k: 'let', name: a.name, value: simplify(i === 0 ? q : mod(q, int(a.extent))) };
  });
  const inner = seq(...lets, body);
  return loop('blk_x', Math.ceil(points / threads), 'block.x', loop('thr_x', threads, 'thread.x', seq(
    { k: 'let', name: 'ff_point', value: simplify(add(mul(v('blk_x'), int(threads)), v('thr_x'))) },
    points % threads === 0 ? inner : { k: 'if', cond: lt(point, int(points)), then: inner },
  )));
}
