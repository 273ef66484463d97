// The GPU template's lowering: a checked plan (gpu-plan.ts) to the loop nest drawn in gpu.ts's
// header — block and thread indices, vthread and inner tiles, cooperative loads of the shared
// boxes between barriers, the reduction, and the guarded store of the accumulator.
import type { ComputeDef } from '../compute.ts';
import {
  add, and, float, ge, int, load, loop, lt, min, mul, rewriteExpr, select, seq, simplify, sub, substitute, v,
  type Expr, type LoopKind, type Stmt,
} from '../ir.ts';
import { baseVar, blockTile, GPU_DIM_NAMES, type AxisPlan, type GpuGeometry, type GpuPlan, type StagedInput } from './gpu-plan.ts';
import { product } from './split.ts';
import { unrollStep } from './unroll.ts';

const levelVar = (axis: string, level: number) => `${axis}_${level}`;
const threadBaseVar = (axis: string) => `${axis}_t`;
const sharedName = (tensor: string) => `${tensor}_sh`;
const boxLoVar = (tensor: string, dim: number) => `${tensor}_lo${dim}`;
/** A level's loop variable, or 0 when the level has a single iteration (no loop is emitted). */
const level = (a: AxisPlan, l: number): Expr => (a.factors[l] > 1 ? v(levelVar(a.name, l)) : int(0));

/** Replace every load by `f(load)`. */
const mapLoads = (e: Expr, f: (l: Extract<Expr, { k: 'load' }>) => Expr): Expr => rewriteExpr(e, (x) => (x.k === 'load' ? f(x) : null));

/** The loop nest of a checked plan (the header of gpu.ts draws its shape). */
export function lowerGpu(def: ComputeDef, plan: GpuPlan, geo: GpuGeometry): Stmt {
  const { spatial, reduce, groups } = plan;
  const dimOf = (j: number) => GPU_DIM_NAMES[groups.length - 1 - j];
  const lets: Stmt[] = [];
  const let_ = (name: string, value: Expr) => lets.push({ k: 'let', name, value: simplify(value) });

  // Block and thread indices → the level-0 and level-2 index of every axis of their group.
  groups.forEach((group, j) => {
    for (const l of [0, 2]) {
      const index = v(`${l === 0 ? 'blk' : 'thr'}_${dimOf(j)}`);
      let stride = 1;
      for (const a of [...group].reverse()) {
        const f = a.factors[l];
        if (f > 1) {
          const q = stride === 1 ? index : { k: 'bin', op: '/', a: index, b: int(stride) } as Expr;
          let_(levelVar(a.name, l), stride * f === product(group.map((x) => x.factors[l])) ? q : { k: 'bin', op: '%', a: q, b: int(f) });
        }
        stride *= f;
      }
    }
  });
  for (const a of spatial) {
    let_(baseVar(a.name), mul(level(a, 0), int(blockTile(a))));
    let_(threadBaseVar(a.name), add(v(baseVar(a.name)), mul(level(a, 2), int(a.factors[3]))));
  }
  // The thread's rank in its block (x fastest), for the cooperative loads.
  let tid: Expr = int(0);
  groups.forEach((_, j) => {
    const d = GPU_DIM_NAMES.indexOf(dimOf(j));
    if (geo.block[d] > 1) tid = add(tid, mul(v(`thr_${dimOf(j)}`), int(product(geo.block.slice(0, d)))));
  });
  if (geo.threads > 1) let_('tid', tid);

  // Where a spatial point and a reduce point are, from the loop variables.
  const env: Record<string, Expr> = {};
  for (const a of spatial) {
    env[a.name] = simplify(add(add(v(threadBaseVar(a.name)), mul(level(a, 1), int(a.factors[2] * a.factors[3]))), level(a, 3)));
  }
  for (const r of reduce) env[r.name] = simplify(add(add(v(baseVar(r.name)), mul(level(r, 1), int(r.factors[2]))), level(r, 2)));

  const accIndex = spatial.flatMap((a) => [level(a, 1), level(a, 3)]);
  const accShape = spatial.flatMap((a) => [a.factors[1], a.factors[3]]);
  const outIndex = spatial.map((a) => env[a.name]);
  const inRange = and(...spatial.filter((a) => !a.perfect).map((a) => lt(env[a.name], int(a.extent))));
  const hasTails = spatial.some((a) => !a.perfect);

  /** Vthread and inner-tile loops (or one of them) around a statement, unrolled by the knob. */
  const tileLoops = (inner: Stmt, which: 'V' | 'I' | 'VI', counter = { product: 1 }): Stmt => {
    let body = inner;
    if (which !== 'V') {
      for (const a of [...spatial].reverse()) {
        if (a.factors[3] <= 1) continue;
        counter.product *= a.factors[3];
        body = loop(levelVar(a.name, 3), a.factors[3], 'serial', body, unrollStep(plan, counter.product, a.factors[3]));
      }
    }
    if (which !== 'I') {
      for (const a of [...spatial].reverse()) {
        if (a.factors[1] <= 1) continue;
        counter.product *= a.factors[1];
        body = loop(levelVar(a.name, 1), a.factors[1], 'vthread', body, a.factors[1]);
      }
    }
    return body;
  };

  // The update, inputs read from their shared boxes. An affine index is taken relative to the
  // block (the point's offset within the block tile) so that the block's base cancels out.
  const local: Record<string, Expr> = {};
  for (const a of spatial) local[a.name] = simplify(add(mul(add(mul(level(a, 1), int(a.factors[2])), level(a, 2)), int(a.factors[3])), level(a, 3)));
  for (const r of reduce) local[r.name] = simplify(add(mul(level(r, 1), int(r.factors[2])), level(r, 2)));
  const staged = new Map(geo.staged.map((s) => [s.tensor, s]));
  const fromShared = mapLoads(withoutImpliedGuards(def.body, staged), (l) => {
    const s = staged.get(l.tensor);
    if (!s) return load(l.tensor, l.index.map((e) => substitute(e, env)));
    return load(sharedName(s.tensor), l.index.map((e, d) => {
      const offset = s.offset[d];
      return offset === null ? sub(substitute(e, env), v(boxLoVar(s.tensor, d))) : sub(substitute(e, local), int(offset));
    }));
  });
  let update: Stmt = { k: 'store', tensor: 'acc', index: accIndex, value: simplify(substitute(fromShared, env)), accumulate: true };
  // Inputs read from global memory must not be read past a tail.
  if (geo.unstaged.length && hasTails) update = { k: 'if', cond: inRange, then: update };

  const r2Loops = (inner: Stmt, counter: { product: number }): Stmt => {
    let body = inner;
    for (const r of [...reduce].reverse()) {
      const f = r.factors[2];
      if (f <= 1 && r.perfect) continue;
      // Imperfect split: the last R0 step stops at the extent (a negative count skips the loop).
      const extent = r.perfect ? int(f) : simplify(min(int(f), sub(int(r.extent), add(v(baseVar(r.name)), mul(level(r, 1), int(f))))));
      let step: number | undefined;
      if (r.perfect && plan.unrollReduce) { counter.product *= f; step = unrollStep(plan, counter.product, f); }
      body = loop(levelVar(r.name, 2), extent, 'serial', body, step);
    }
    return body;
  };
  const counter = { product: 1 };
  let compute: Stmt;
  switch (plan.reorder) {
    case 0: compute = r2Loops(tileLoops(update, 'VI', counter), counter); break;
    case 1: compute = tileLoops(r2Loops(tileLoops(update, 'I', counter), counter), 'V', counter); break;
    default: compute = tileLoops(r2Loops(update, counter), 'VI', counter); break;
  }
  for (const r of [...reduce].reverse()) {
    if (r.factors[1] > 1) compute = loop(levelVar(r.name, 1), r.factors[1], 'serial', compute);
  }

  // One R0 step: the reduce bases, the boxes' lower ends, cooperative loads, barrier, compute.
  const step: Stmt[] = reduce.map((r) => ({ k: 'let', name: baseVar(r.name), value: simplify(mul(level(r, 0), int(blockTile(r)))) }));
  for (const s of geo.staged) s.box.forEach((b, d) => step.push({ k: 'let', name: boxLoVar(s.tensor, d), value: b.lo }));
  for (const s of geo.staged) step.push(cooperativeLoad(s, geo.threads));
  const hasR0 = reduce.some((r) => r.factors[0] > 1);
  if (geo.staged.length) step.push({ k: 'barrier' });
  step.push(compute);
  if (geo.staged.length && hasR0) step.push({ k: 'barrier' });
  let reduction: Stmt = seq(...step);
  for (const r of [...reduce].reverse()) {
    if (r.factors[0] > 1) reduction = loop(levelVar(r.name, 0), r.factors[0], 'serial', reduction);
  }

  const init = tileLoops({ k: 'store', tensor: 'acc', index: accIndex, value: float(0) }, 'VI');
  let write: Stmt = { k: 'store', tensor: def.output.name, index: outIndex, value: load('acc', accIndex) };
  if (hasTails) write = { k: 'if', cond: inRange, then: write };
  const perThread = seq(
    ...lets,
    { k: 'alloc', name: 'acc', shape: accShape, scope: 'local' },
    init, reduction, tileLoops(write, 'VI'),
  );

  // Thread loops inside block loops, z outermost; each binds one hardware index (none for a
  // dimension of extent 1, whose index is always 0 and is not read).
  let nest: Stmt = perThread;
  for (const prefix of ['thr', 'blk'] as const) {
    for (let j = groups.length - 1; j >= 0; j--) {
      const d = GPU_DIM_NAMES.indexOf(dimOf(j));
      const extent = (prefix === 'thr' ? geo.block : geo.grid)[d];
      const kind = `${prefix === 'thr' ? 'thread' : 'block'}.${dimOf(j)}` as LoopKind;
      if (extent > 1) nest = loop(`${prefix}_${dimOf(j)}`, extent, kind, nest);
    }
  }
  const shared: Stmt[] = geo.staged.map((s) => ({ k: 'alloc', name: sharedName(s.tensor), shape: s.box.map((b) => b.extent), scope: 'shared' }));
  return seq(...shared, nest);
}

/**
 * A load guarded by its own bounds, select(0 <= i < extent, T[i], 0), needs no guard once T is
 * staged: the box holds zeros outside the tensor. Other guard terms (strides of transposed
 * convolutions) stay.
 */
function withoutImpliedGuards(e: Expr, staged: Map<string, StagedInput>): Expr {
  return rewriteExpr(e, (x) => {
    if (x.k !== 'select') return null;
    const value = x.a;
    if (value.k !== 'load' || !staged.has(value.tensor) || x.b.k !== 'float' || x.b.v !== 0) return null;
    const shape = staged.get(value.tensor)!.shape;
    const same = (a: Expr, b: Expr) => JSON.stringify(a) === JSON.stringify(b);
    const implied = (t: Expr) => t.k === 'cmp' && value.index.some((idx, d) =>
      same(t.a, idx) && ((t.op === '>=' && t.b.k === 'int' && t.b.v === 0) || (t.op === '<' && t.b.k === 'int' && t.b.v === shape[d])));
    const terms = (x.cond.k === 'and' ? x.cond.terms : [x.cond]).filter((t) => !implied(t));
    return terms.length ? { ...x, cond: and(...terms) } : value;
  });
}

/** All threads of the block copy the box: thread `tid` takes elements tid, tid + threads, … */
function cooperativeLoad(s: StagedInput, threads: number): Stmt {
  const extents = s.box.map((b) => b.extent);
  const size = product(extents);
  const e = v(`${s.tensor}_e`);
  const coords = extents.map((_, d) => {
    const inner = product(extents.slice(d + 1));
    const q: Expr = inner === 1 ? e : { k: 'bin', op: '/', a: e, b: int(inner) };
    return simplify(d === 0 ? q : { k: 'bin', op: '%', a: q, b: int(extents[d]) });
  });
  const global = coords.map((c, d) => simplify(add(v(boxLoVar(s.tensor, d)), c)));
  const bounds: Expr[] = [];
  global.forEach((g, d) => {
    if (s.guardLow[d]) bounds.push(ge(g, int(0)));
    if (s.guardHigh[d]) bounds.push(lt(g, int(s.shape[d])));
  });
  const value = load(s.tensor, global);
  const copy: Stmt = { k: 'store', tensor: sharedName(s.tensor), index: coords, value: bounds.length ? select(and(...bounds), value, float(0)) : value };
  const rounds = Math.ceil(size / threads);
  const tid = threads > 1 ? v('tid') : int(0);
  const body = seq(
    { k: 'let', name: `${s.tensor}_e`, value: simplify(add(mul(v(`${s.tensor}_j`), int(threads)), tid)) },
    size % threads === 0 ? copy : { k: 'if', cond: lt(e, int(size)), then: copy },
  );
  return rounds === 1 ? seq(...substituteLoopVar(body, `${s.tensor}_j`)) : loop(`${s.tensor}_j`, rounds, 'serial', body);
}

/** A one-round copy needs no loop: its round variable is 0. */
function substituteLoopVar(body: Stmt, name: string): Stmt[] {
  if (body.k !== 'seq') return [body];
  return body.body.map((s) => (s.k === 'let' ? { ...s, value: simplify(substitute(s.value, { [name]: int(0) })) } : s));
}
