// What the sim landscape needs to know about an operator's memory accesses: for every input
// load, each index dimension as an affine combination of loop variables (with a divisor for
// strided transposed convolutions), so tile footprints and vector strides can be estimated.
import type { ComputeDef } from '../../../tensor/compute.ts';
import { forEachExpr, type Expr } from '../../../tensor/ir.ts';

export interface IndexDim {
  /** Loop variable → coefficient (after dividing by `divisor`). */
  coeffs: Map<string, number>;
  /** Extent of this tensor dimension (a footprint never exceeds it). */
  size: number;
}

export interface Access {
  tensor: string;
  dims: IndexDim[];
}

const cache = new WeakMap<ComputeDef, Access[]>();

/** Every distinct input load of the body (a tensor loaded twice with the same index counts once). */
export function inputAccesses(def: ComputeDef): Access[] {
  const hit = cache.get(def);
  if (hit) return hit;
  const shapes = new Map(def.inputs.map((t) => [t.name, t.shape]));
  const out: Access[] = [];
  const seen = new Set<string>();
  forEachExpr(def.body, (e) => {
    if (e.k !== 'load') return;
    const key = JSON.stringify(e);
    const shape = shapes.get(e.tensor);
    if (shape && !seen.has(key)) {
      seen.add(key);
      out.push({ tensor: e.tensor, dims: e.index.map((ix, d) => ({ coeffs: affine(ix), size: shape[d] })) });
    }
  });
  cache.set(def, out);
  return out;
}

/** Coefficients of the variables in an index expression; non-affine parts are approximated
 *  (x / c scales by 1/c, x % c keeps x's coefficients — the footprint is capped by the size). */
function affine(e: Expr): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (x: Expr, scale: number): void => {
    switch (x.k) {
      case 'var': out.set(x.name, (out.get(x.name) ?? 0) + scale); return;
      case 'bin': {
        if (x.op === '+') { walk(x.a, scale); walk(x.b, scale); return; }
        if (x.op === '-') { walk(x.a, scale); walk(x.b, -scale); return; }
        if (x.op === '*') {
          if (x.b.k === 'int') { walk(x.a, scale * x.b.v); return; }
          if (x.a.k === 'int') { walk(x.b, scale * x.a.v); return; }
        }
        if (x.op === '/' && x.b.k === 'int' && x.b.v > 0) { walk(x.a, scale / x.b.v); return; }
        walk(x.a, scale); walk(x.b, scale);
        return;
      }
      default: return;
    }
  };
  walk(e, 1);
  return out;
}

/** Elements an access touches when each variable ranges over `extent(var)` values. */
export function footprint(access: Access, extent: (name: string) => number): number {
  let elements = 1;
  for (const dim of access.dims) {
    let span = 1;
    for (const [name, c] of dim.coeffs) span += Math.abs(c) * (extent(name) - 1);
    elements *= Math.min(dim.size, Math.max(1, span));
  }
  return elements;
}

/** How a vector along `axis` reads this access: not at all, contiguously, or with a stride. */
export function vectorStride(access: Access, axis: string): 'broadcast' | 'contiguous' | 'strided' {
  const last = access.dims.length - 1;
  let inner = false;
  for (let d = 0; d < access.dims.length; d++) {
    const c = access.dims[d].coeffs.get(axis) ?? 0;
    if (c === 0) continue;
    if (d !== last || Math.abs(c) !== 1) return 'strided';
    inner = true;
  }
  return inner ? 'contiguous' : 'broadcast';
}
