// Polyphase (sub-pixel) decomposition of stride-divisibility guards. A transposed convolution
// reads I[q / S] with q = o + c0 - r only where q % S == 0: at stride S, one (output, tap) pair
// in S along each such dimension does useful work, and the rest is skipped by a guard that costs
// as much as the work. Writing the output position as o = S·o' + φ (φ its phase) and running only
// the taps that match the phase, r = S·r' + (φ + c0) % S, makes every quotient exact:
//   q = S·u,  u = o' - r' + (φ + c0) / S,
// so the guard vanishes and each tap loop is ceil(R / S) long instead of R. The output is then
// indexed [.., o', φ, ..]: a reshape of the same memory (a `view`, as for fused axes).
// Read from the body alone, per dimension; a def without the pattern is left as it is.
import type { Axis, ComputeDef } from '../compute.ts';
import { constantTerm, dependsOn, strideIn } from '../affine.ts';
import { add, and, div, float, int, lt, mapChildren, mod, mul, rewriteExpr, select, simplify, sub, substitute, v, foldInt, type Expr } from '../ir.ts';
import type { Fusion } from './cpu-fuse.ts';
import { compare } from '../reference.ts';

/** One decomposed dimension: output axis o and tap axis r of q = o + c0 - r, guarded q % S == 0. */
interface PhaseDim { o: Axis; r: Axis; stride: number; c0: number; q: Expr; outer: string; phase: string; tap: string }

const sameExpr = (a: Expr, b: Expr): boolean => JSON.stringify(a) === JSON.stringify(b);
const isZero = (e: Expr): boolean => (e.k === 'float' || e.k === 'int') && e.v === 0;
/** a·b·c → [a, b, c]: a factor that is zero makes the whole body zero. */
const factors = (e: Expr): Expr[] => (e.k === 'bin' && e.op === '*' ? [...factors(e.a), ...factors(e.b)] : [e]);
const conjuncts = (e: Expr): Expr[] => (e.k === 'and' ? e.terms.flatMap(conjuncts) : [e]);

/** Guards `q % S == 0` whose failure zeroes the body: terms of a select(cond, x, 0) factor. Only
 *  then may the pairs that fail them be dropped from the iteration space. */
function divisibilityGuards(body: Expr): { q: Expr; stride: number }[] {
  return factors(body)
    .flatMap((f) => (f.k === 'select' && isZero(f.b) ? conjuncts(f.cond) : []))
    .flatMap((t) => (t.k === 'cmp' && t.op === '==' && t.b.k === 'int' && t.b.v === 0 && t.a.k === 'bin' && t.a.op === '%' && t.a.b.k === 'int' && t.a.b.v >= 2
      ? [{ q: t.a.a, stride: t.a.b.v }] : []));
}

/** The dimensions that match: q affine in one spatial axis (+1) and one reduce axis (-1) alone,
 *  with a constant term, and an output extent the stride divides (the output must reshape). */
function phaseDims(def: ComputeDef): PhaseDim[] {
  const axes = [...def.spatial, ...def.reduce];
  const taken = new Set(axes.map((a) => a.name));
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    taken.add(name);
    return name;
  };
  const dims: PhaseDim[] = [];
  for (const { q, stride } of divisibilityGuards(def.body)) {
    const o = def.spatial.find((a) => strideIn(q, a.name) === 1);
    const r = def.reduce.find((a) => strideIn(q, a.name) === -1);
    const c0 = constantTerm(q);
    if (!o || !r || c0 === null || o.extent % stride !== 0) continue;
    if (axes.some((a) => a !== o && a !== r && dependsOn(q, a.name))) continue;
    if (dims.some((d) => d.o === o || d.r === r || sameExpr(d.q, q))) continue;
    dims.push({ o, r, stride, c0, q, outer: fresh(`${o.name}_o`), phase: fresh(`${o.name}_p`), tap: fresh(`${r.name}_o`) });
  }
  return dims;
}

/** Guard terms that simplified to a true constant (the divisibility guards, now 0 == 0) dropped;
 *  a select whose guard is left empty becomes its value. */
function dropSettledGuards(e: Expr): Expr {
  const settled = (t: Expr) => t.k === 'cmp' && t.a.k === 'int' && t.b.k === 'int' && compare(t.op, t.a.v, t.b.v);
  if (e.k !== 'select') return mapChildren(e, dropSettledGuards);
  const terms = conjuncts(e.cond).filter((t) => !settled(t));
  const a = dropSettledGuards(e.a), b = dropSettledGuards(e.b);
  return terms.length ? select(and(...terms), a, b) : a;
}

const cache = new WeakMap<ComputeDef, Fusion | null>();

/** The definition with every matching dimension decomposed into phases, and the output's view;
 *  null when no dimension matches. Analyses are of the def alone: memoised, like fuseAxes. */
export function phaseAxes(def: ComputeDef): Fusion | null {
  if (!cache.has(def)) cache.set(def, computePhases(def));
  return cache.get(def)!;
}

function computePhases(def: ComputeDef): Fusion | null {
  const dims = phaseDims(def);
  // The output is indexed by the spatial axes in order: it is what gets the [E/S, S] view.
  if (!dims.length || def.output.shape.join() !== def.spatial.map((a) => a.extent).join()) return null;
  const env: Record<string, Expr> = {};
  const quotients: { q: Expr; value: Expr }[] = [];
  const tapGuards: Expr[] = [];
  for (const d of dims) {
    const S = d.stride, R = d.r.extent;
    // c0 = S·k0 + m with 0 <= m < S keeps the operands of / and % non-negative.
    const m = foldInt('%', d.c0, S), k0 = (d.c0 - m) / S;
    const phase = v(d.phase), shifted = add(phase, int(m));
    const tapPhase = m === 0 ? phase : mod(shifted, int(S));
    const carry = m === 0 ? int(0) : div(shifted, int(S));
    const u = simplify(add(sub(v(d.outer), v(d.tap)), add(carry, int(k0))));
    env[d.o.name] = add(mul(v(d.outer), int(S)), phase);
    env[d.r.name] = add(mul(v(d.tap), int(S)), tapPhase);
    quotients.push({ q: d.q, value: mul(int(S), u) });
    // Taps past R when S does not divide it: they must read nothing (the guard is lazy).
    if (R % S !== 0) tapGuards.push(lt(simplify(env[d.r.name]), int(R)));
  }
  // q → S·u wherever it occurs; the simplifier then folds q % S to 0, q / S to u, q >= 0 to u >= 0.
  const exact = rewriteExpr(def.body, (e) => quotients.find(({ q }) => sameExpr(q, e))?.value ?? null);
  let body = dropSettledGuards(simplify(substitute(exact, env)));
  if (tapGuards.length) body = select(and(...tapGuards), body, float(0));

  const spatial = def.spatial.flatMap((a): Axis[] => {
    const d = dims.find((x) => x.o === a);
    return d ? [{ name: d.outer, extent: a.extent / d.stride }, { name: d.phase, extent: d.stride }] : [a];
  });
  const reduce = def.reduce.map((a): Axis => {
    const d = dims.find((x) => x.r === a);
    return d ? { name: d.tap, extent: Math.ceil(a.extent / d.stride) } : a;
  });
  const output = { ...def.output, shape: spatial.map((a) => a.extent) };
  // key and flops stay the original's: the same workload, scheduled differently.
  return { def: { ...def, spatial, reduce, output, body }, views: [{ tensor: output.name, shape: output.shape }] };
}

/** The definition the CPU template schedules: decomposed where the pattern exists, else `def`. */
export const phaseDef = (def: ComputeDef): ComputeDef => phaseAxes(def)?.def ?? def;
